"""Plain-text rendering of the backfire table for the CLI, logs and Dagster metadata."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import duckdb

BACKFIRE_COLUMNS = ("language", "model", "evaluation_date", "n_low", "n_high", "mean_cpi_low", "mean_cpi_high", "slope",
                    "hedges_g", "g_ci_low", "g_ci_high", "p_value", "direction", "synthetic")


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.2e}" if 0 < abs(value) < 1e-3 else f"{value:.3f}"
    return str(value)


def render_table(columns: Sequence[str], rows: Sequence[Sequence[Any]], *, markdown: bool = False) -> str:
    cells = [[_cell(v) for v in row] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in cells)) if cells else len(c) for i, c in enumerate(columns)]
    sep = " | " if markdown else "  "
    lines = [sep.join(c.ljust(w) for c, w in zip(columns, widths, strict=True))]
    lines.append(sep.join("-" * w for w in widths))
    lines += [sep.join(v.rjust(w) if i > 1 else v.ljust(w) for i, (v, w) in enumerate(zip(r, widths, strict=True)))
              for r in cells]
    if markdown:
        lines = [f"| {line} |" for line in lines]
    return "\n".join(lines)


def backfire_rows(con: duckdb.DuckDBPyConnection, study: str) -> list[tuple[Any, ...]]:
    return con.execute(f"select {', '.join(BACKFIRE_COLUMNS)} from marts.backfire_by_language "
                       "where study = ? order by language, model, evaluation_date, synthetic", [study]).fetchall()


def backfire_table(con: duckdb.DuckDBPyConnection, study: str, *, markdown: bool = False) -> str:
    """The study's per-language backfire table. Undated studies drop the date column; any synthetic row
    puts a banner on top and every row carries its own synthetic flag."""
    rows = backfire_rows(con, study)
    columns = list(BACKFIRE_COLUMNS)
    if all(row[2] is None for row in rows):
        columns.pop(2)
        rows = [row[:2] + row[3:] for row in rows]
    banner = ""
    if any(row[-1] for row in rows):
        banner = "SYNTHETIC DATA (planted effects, not a finding)\n\n" if all(row[-1] for row in rows) else \
            "CONTAINS SYNTHETIC ROWS (synthetic = True: planted effects, not findings)\n\n"
    return banner + render_table(columns, rows, markdown=markdown)
