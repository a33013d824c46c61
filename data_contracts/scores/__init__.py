"""Score contract: ``raw.scores`` (long format; abstentions carry NULL values)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from data_contracts._gx import ContractResult, Expectation, validate_frame

if TYPE_CHECKING:
    import pandas as pd

SCORES_COLUMNS = ("utterance_id", "scorer", "scorer_version", "model_id", "dimension", "value", "abstained")


def validate_scores(frame: pd.DataFrame) -> ContractResult:
    scored = frame[~frame["abstained"]] if "abstained" in frame.columns else frame
    result = validate_frame("scores", "scores", frame, SCORES_COLUMNS, [
        Expectation("ExpectCompoundColumnsToBeUnique",
                    column_list=["utterance_id", "scorer", "scorer_version", "dimension"]),
        Expectation("ExpectColumnValuesToNotBeNull", column="scorer"),
        Expectation("ExpectColumnValuesToNotBeNull", column="model_id"),
        Expectation("ExpectColumnValuesToBeInSet", column="abstained", value_set=[True, False]),
    ])
    if "value" in scored.columns and scored["value"].isna().any():
        result.failures.append("scores/scores: column value: NULL value on a row that did not abstain")
    return result
