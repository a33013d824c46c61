"""Score contract: ``raw.scores`` (long format; abstentions carry NULL values).

With language-ID scores (the ``langid`` scorer) and the run's language beside each row, it also holds a
fidelity floor: a language whose replies are mostly in another language measures the wrong thing. The floor is
the study's ``quality.min_language_fidelity`` (``--min-language-fidelity`` on ``backfire run``), recorded in
``raw.studies`` and carried on each row as ``min_language_fidelity``; the default where a row has none.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from core.study import DEFAULT_MIN_LANGUAGE_FIDELITY
from data_contracts._gx import ContractResult, Expectation, validate_frame
from data_contracts._recorded import recorded_setting

if TYPE_CHECKING:
    import pandas as pd

SCORES_COLUMNS = ("utterance_id", "scorer", "scorer_version", "model_id", "dimension", "value", "abstained")
MIN_LANGUAGE_FIDELITY = DEFAULT_MIN_LANGUAGE_FIDELITY
"""Default floor: below this share of replies detected in the run's language, a language's transcripts are not
results (a study sets its own in ``quality.min_language_fidelity``)."""


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
    """Per (study, language): the mean ``in_language`` of the langid scores against the study's floor."""
    if not {"language", "scorer", "dimension", "value"} <= set(scored.columns):
        return []
    detected = scored[(scored["scorer"] == "langid") & (scored["dimension"] == "in_language")]
    keys = [key for key in ("study", "language") if key in detected.columns]
    failures = []
    for key, group in detected.groupby(keys, sort=True):
        floor = recorded_setting(group, "min_language_fidelity", MIN_LANGUAGE_FIDELITY)
        share = float(group["value"].mean())
        if share < floor:
            named = dict(zip(keys, key if isinstance(key, tuple) else (key,), strict=True))
            study = f" in study {named['study']}" if "study" in named else ""
            failures.append(
                f"scores/scores: language fidelity of {named['language']}{study} is {share:.0%} (langid: replies in "
                f"the run's language), under the floor of {floor:.0%} (quality.min_language_fidelity in the study "
                "file, --min-language-fidelity on backfire run): the model answers in another language. Fix: check "
                "the model and the pack's instructions before reading its effects; lower the floor only for a "
                "language the model is known to answer partly in another (e.g. code-switching) and say so")
    return failures
