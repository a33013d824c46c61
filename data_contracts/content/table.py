"""GX suite of ``raw.content_packs``: what was recorded about each pack a study read."""

from __future__ import annotations

from typing import TYPE_CHECKING

from data_contracts._gx import ContractResult, Expectation, validate_frame
from simulation.content import N_EVENTS, N_PERSONAS

if TYPE_CHECKING:
    import pandas as pd

CONTENT_PACKS_COLUMNS = ("language", "content_hash", "pack_version", "lexicon_version", "script", "segmentation",
                         "provenance_method", "n_personas", "n_events", "n_lexicon_entries")


def validate_content_packs(frame: pd.DataFrame) -> ContractResult:
    return validate_frame("content", "content_packs", frame, CONTENT_PACKS_COLUMNS, [
        Expectation("ExpectCompoundColumnsToBeUnique", column_list=["language", "content_hash"]),
        Expectation("ExpectColumnValuesToBeBetween", column="n_events", min_value=N_EVENTS, max_value=N_EVENTS),
        Expectation("ExpectColumnValuesToBeBetween", column="n_personas", min_value=N_PERSONAS),
        Expectation("ExpectColumnValuesToBeBetween", column="n_lexicon_entries", min_value=6),
        Expectation("ExpectColumnValuesToBeInSet", column="segmentation", value_set=["words", "characters"]),
        Expectation("ExpectColumnValuesToBeInSet", column="provenance_method", value_set=["authored", "translated"]),
    ])
