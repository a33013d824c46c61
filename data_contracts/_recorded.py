"""Settings a study recorded in ``raw.studies`` (its quality floors), as the contracts' SQL carries them on each
row; the default where a row has none (a frame built without them, a study recorded before they existed)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd


def recorded_setting(rows: pd.DataFrame, column: str, default: float) -> float:
    """The study's setting carried on its rows, or ``default`` where none was recorded."""
    if column not in rows.columns:
        return default
    values = rows[column].dropna()
    return float(values.iloc[0]) if len(values) else default
