"""Transcript contract: ``raw.utterances``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from data_contracts._gx import ContractResult, Expectation, validate_frame

if TYPE_CHECKING:
    import pandas as pd

UTTERANCES_COLUMNS = ("utterance_id", "run_id", "turn", "agent_idx", "channel", "text", "status", "tokens_in",
                      "tokens_out", "latency_ms", "cache_hit", "model", "backend")
CHANNELS = ("talk", "monologue", "probe")
STATUSES = ("ok", "parse_error", "error", "refused")


def validate_utterances(frame: pd.DataFrame) -> ContractResult:
    return validate_frame("transcripts", "utterances", frame, UTTERANCES_COLUMNS, [
        Expectation("ExpectColumnValuesToBeUnique", column="utterance_id"),
        Expectation("ExpectColumnValuesToNotBeNull", column="run_id"),
        Expectation("ExpectColumnValuesToBeInSet", column="channel", value_set=list(CHANNELS)),
        Expectation("ExpectColumnValuesToBeInSet", column="status", value_set=list(STATUSES)),
        Expectation("ExpectColumnValuesToBeBetween", column="turn", min_value=1, max_value=15),
        Expectation("ExpectColumnValuesToNotBeNull", column="text"),
        Expectation("ExpectCompoundColumnsToBeUnique", column_list=["run_id", "turn", "agent_idx", "channel"]),
    ])
