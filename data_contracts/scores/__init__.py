"""Score contract: ``raw.scores`` (long format; abstentions carry NULL values).

With language-ID scores (the ``langid`` scorer) and the run's language beside each row, it also holds a
fidelity floor: a language whose replies are mostly in another language measures the wrong thing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from data_contracts._gx import ContractResult, Expectation, validate_frame

if TYPE_CHECKING:
    import pandas as pd

SCORES_COLUMNS = ("utterance_id", "scorer", "scorer_version", "model_id", "dimension", "value", "abstained")
MIN_LANGUAGE_FIDELITY = 0.8
"""Below this share of replies detected in the run's language, a language's transcripts are not results."""


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
    result.failures += _fidelity_floor(scored)
    result.n_expectations += 1
    return result


def _fidelity_floor(scored: pd.DataFrame) -> list[str]:
    if not {"language", "scorer", "dimension", "value"} <= set(scored.columns):
        return []
    detected = scored[(scored["scorer"] == "langid") & (scored["dimension"] == "in_language")]
    fidelity = detected.groupby("language")["value"].mean()
    low = fidelity[fidelity < MIN_LANGUAGE_FIDELITY]
    return [f"scores/scores: language fidelity of {language} is {share:.0%} (langid: replies in the run's "
            f"language), under the floor of {MIN_LANGUAGE_FIDELITY:.0%}: the model answers in another language; "
            "check the model and the pack's instructions before reading its effects"
            for language, share in low.items()]
