"""Transcript contract: ``raw.utterances``.

Beyond the schema: few failed calls (a broken endpoint must not reach a mart), every stored turn complete
(the engine writes a turn at once, so a turn with fewer replies than its run's others is corruption), and few
replies cut off at ``max_tokens``: at most the study's ``quality.max_truncated_share`` of each language's calls
(the rows carry ``study``, ``language`` and ``max_truncated_share`` from ``raw.runs`` and ``raw.studies``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from core.study import DEFAULT_MAX_TRUNCATED_SHARE
from data_contracts._gx import ContractResult, Expectation, validate_frame
from data_contracts._recorded import recorded_setting

if TYPE_CHECKING:
    import pandas as pd

UTTERANCES_COLUMNS = ("utterance_id", "run_id", "turn", "agent_idx", "channel", "text", "status", "tokens_in",
                      "tokens_out", "latency_ms", "cache_hit", "model", "backend")
CHANNELS = ("talk", "monologue", "probe")
STATUSES = ("ok", "parse_error", "error", "refused", "truncated")
MAX_FAILED_SHARE = 0.2
"""Above this share of calls that failed after every retry, the transcripts are not results."""


def validate_utterances(frame: pd.DataFrame) -> ContractResult:
    result = validate_frame("transcripts", "utterances", frame, UTTERANCES_COLUMNS, [
        Expectation("ExpectColumnValuesToBeUnique", column="utterance_id"),
        Expectation("ExpectColumnValuesToNotBeNull", column="run_id"),
        Expectation("ExpectColumnValuesToBeInSet", column="channel", value_set=list(CHANNELS)),
        Expectation("ExpectColumnValuesToBeInSet", column="status", value_set=list(STATUSES)),
        Expectation("ExpectColumnValuesToBeInSet", column="status", mostly=1 - MAX_FAILED_SHARE,
                    value_set=[s for s in STATUSES if s != "error"]),
        Expectation("ExpectColumnValuesToBeBetween", column="turn", min_value=1, max_value=15),
        Expectation("ExpectColumnValuesToBeBetween", column="agent_idx", min_value=0),
        Expectation("ExpectColumnValuesToNotBeNull", column="text"),
        Expectation("ExpectCompoundColumnsToBeUnique", column_list=["run_id", "turn", "agent_idx", "channel"]),
    ])
    if result.success:
        result.n_expectations += 1
        result.failures += _incomplete_turns(frame)
    result.n_expectations += 1
    result.failures += _truncation_gate(frame)
    return result


def _truncation_gate(frame: pd.DataFrame) -> list[str]:
    """Per (study, language): the share of calls (talk and probe rows; a monologue shares its talk row's call)
    cut off at ``max_tokens``, against the study's ``max_truncated_share`` (the default where not recorded).

    Truncated replies are excluded from the metrics by default, so a high share is a large exclusion that
    falls hardest on token-heavy scripts (hi, bn, th): better to stop than to measure what is left.
    """
    if not {"channel", "status"} <= set(frame.columns):
        return []
    calls = frame[frame["channel"] != "monologue"]
    keys = [key for key in ("study", "language") if key in calls.columns]
    failures = []
    for key, group in (calls.groupby(keys, sort=True) if keys else [((), calls)]):
        if group.empty:
            continue
        limit = recorded_setting(group, "max_truncated_share", DEFAULT_MAX_TRUNCATED_SHARE)
        truncated = int((group["status"] == "truncated").sum())
        share = truncated / len(group)
        if share > limit:
            values = key if isinstance(key, tuple) else (key,)
            named = ", ".join(f"{name} {value}" for name, value in zip(keys, values, strict=True))
            where = f" ({named})" if named else ""
            failures.append(
                f"transcripts/utterances: {truncated} of {len(group)} calls{where} ({share:.1%}) were cut off "
                f"at max_tokens (status truncated), over the study file's quality.max_truncated_share of "
                f"{limit:.1%}: truncated replies are excluded from the metrics, and excluding that many biases "
                "them. Fix: raise models[].max_tokens in the study file and rerun (max_tokens is part of the run "
                "id: the runs are played again), or raise quality.max_truncated_share if you accept the exclusion")
    return failures


def _incomplete_turns(frame: pd.DataFrame) -> list[str]:
    """Turns with fewer talk or monologue replies than the fullest turn of the same run."""
    spoken = frame[frame["channel"].isin(["talk", "monologue"])]
    if spoken.empty:
        return []
    counts = spoken.groupby(["run_id", "turn", "channel"]).size()
    fullest = counts.groupby(level="run_id").transform("max")
    short = counts[counts < fullest]
    if short.empty:
        return []
    (run_id, turn, channel), n = next(iter(short.items()))
    return [f"transcripts/utterances: {len(short)} (run, turn, channel) groups are incomplete, e.g. run {run_id} "
            f"turn {turn} has {n} {channel} replies where the run's other turns have {fullest[short.index[0]]}: "
            "delete that run's rows from raw.utterances and rerun to play it again"]
