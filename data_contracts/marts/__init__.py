"""Mart contracts: ``marts.run_metrics`` and ``marts.backfire_by_language``, beyond dbt's own tests.

dbt tests check keys and formulas; these check that the study's results are usable: every language has runs,
the measures lie in their ranges and are rarely missing, and the failure share of the calls behind them stays
under the floor a reader can trust.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from data_contracts._gx import ContractResult, Expectation, check_columns, validate_frame

if TYPE_CHECKING:
    import pandas as pd

RUN_METRICS_COLUMNS = ("run_id", "study", "language", "model", "aligned_share", "monologue_ratio", "pathology_rate",
                       "protective_rate", "cpi", "di", "n_errors", "n_replies")
BACKFIRE_COLUMNS = ("study", "language", "model", "n_low", "n_high", "hedges_g", "p_value", "direction")
MAX_ERROR_SHARE = 0.2
"""Runs whose calls failed more often than this are not results: the contract fails on them."""
MIN_CPI_SHARE = 0.95
"""At least this share of runs must have a CPI (a NULL CPI means a rate could not be computed)."""


def validate_run_metrics(frame: pd.DataFrame) -> ContractResult:
    result = validate_frame("marts", "run_metrics", frame, RUN_METRICS_COLUMNS, [
        Expectation("ExpectColumnValuesToBeUnique", column="run_id"),
        Expectation("ExpectColumnValuesToBeBetween", column="monologue_ratio", min_value=0, max_value=1),
        Expectation("ExpectColumnValuesToBeBetween", column="pathology_rate", min_value=0),
        Expectation("ExpectColumnValuesToBeBetween", column="protective_rate", min_value=0),
        Expectation("ExpectColumnValuesToBeBetween", column="aligned_share", min_value=0, max_value=1),
        Expectation("ExpectColumnValuesToNotBeNull", column="cpi", mostly=MIN_CPI_SHARE),
    ])
    if frame.empty or not {"run_id", "n_errors", "n_replies"} <= set(frame.columns):
        return result
    # Agent turns: the measured replies plus the excluded ones (errors among them); n_errors + n_replies where
    # the exclusion counts are missing (a frame built without them).
    turns = frame["n_replies"] + (frame["n_excluded"] if "n_excluded" in frame.columns else frame["n_errors"])
    share = frame["n_errors"] / turns.where(lambda n: n > 0)
    bad = frame.loc[share > MAX_ERROR_SHARE, "run_id"]
    result.n_expectations += 1
    if len(bad):
        result.failures.append(f"marts/run_metrics: {len(bad)} runs have more than {MAX_ERROR_SHARE:.0%} failed calls "
                               f"(e.g. {bad.iloc[0]}): rerun the study to retry them, or check the endpoint")
    return result


SERVED_MODELS_COLUMNS = ("study", "language", "model", "requested_model", "served_model", "served_as_requested",
                         "n_calls")


def validate_served_models(frame: pd.DataFrame) -> ContractResult:
    """What the endpoints served against what the study asked for: a served model id that differs from the
    requested one is a warning, never a failure (the results are real, but belong to the served model)."""
    result = ContractResult("marts", "served_models", len(frame), n_expectations=1)
    result.failures += check_columns("marts", "served_models", frame, SERVED_MODELS_COLUMNS)
    if result.failures or frame.empty:
        return result
    mismatched = ~frame["served_as_requested"].astype("boolean").fillna(True)  # NULL: nothing to compare
    for row in frame.loc[mismatched.astype(bool)].itertuples(index=False):
        result.warnings.append(
            f"marts/served_models: study {row.study}, language {row.language}, model {row.model}: requested "
            f"'{row.requested_model}' but the endpoint served '{row.served_model}' ({row.n_calls} calls); the "
            f"results belong to the served model. Fix: pin a snapshot in the study (models[].snapshot: "
            f"{row.served_model}), or check the endpoint's routing")
    return result


def validate_backfire(frame: pd.DataFrame, languages: list[str]) -> ContractResult:
    """The effect table of a study: one row per language it ran, valid p-values and directions."""
    result = validate_frame("marts", "backfire_by_language", frame, BACKFIRE_COLUMNS, [
        Expectation("ExpectColumnValuesToBeInSet", column="direction", value_set=["amplified", "reduced", "none"]),
        Expectation("ExpectColumnValuesToBeBetween", column="p_value", min_value=0, max_value=1),
        Expectation("ExpectColumnValuesToBeBetween", column="n_low", min_value=1),
        Expectation("ExpectColumnValuesToBeBetween", column="n_high", min_value=1),
    ])
    result.n_expectations += 1
    missing = sorted(set(languages) - set(frame["language"])) if "language" in frame.columns else languages
    if missing:
        result.failures.append(f"marts/backfire_by_language: no effect row for {', '.join(missing)} (no complete "
                               "runs at both ends of the aligned shares?)")
    return result
