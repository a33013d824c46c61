"""Design contract: ``raw.runs`` and ``raw.agents``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from data_contracts._gx import ContractResult, Expectation, validate_frame

if TYPE_CHECKING:
    import pandas as pd

RUNS_COLUMNS = ("run_id", "study", "language", "model", "aligned_share", "k_aligned", "n_agents", "individuation",
                "replicate", "seed", "scenario", "content_hash", "evaluation_date")
AGENTS_COLUMNS = ("run_id", "agent_idx", "persona_id", "aligned", "individuated")


def validate_runs(frame: pd.DataFrame) -> ContractResult:
    return validate_frame("design", "runs", frame, RUNS_COLUMNS, [
        Expectation("ExpectColumnValuesToNotBeNull", column="run_id"),
        Expectation("ExpectColumnValuesToBeUnique", column="run_id"),
        Expectation("ExpectColumnValuesToBeBetween", column="aligned_share", min_value=0, max_value=1),
        Expectation("ExpectColumnValuesToBeBetween", column="n_agents", min_value=2, max_value=50),
        Expectation("ExpectColumnValuesToBeBetween", column="n_turns", min_value=1, max_value=15),
        Expectation("ExpectColumnValuesToBeBetween", column="replicate", min_value=0),
        Expectation("ExpectColumnValuesToNotBeNull", column="content_hash"),
        Expectation("ExpectColumnPairValuesAToBeGreaterThanB", column_A="n_agents", column_B="k_aligned",
                    or_equal=True),
    ])


def validate_agents(frame: pd.DataFrame) -> ContractResult:
    return validate_frame("design", "agents", frame, AGENTS_COLUMNS, [
        Expectation("ExpectCompoundColumnsToBeUnique", column_list=["run_id", "agent_idx"]),
        Expectation("ExpectColumnValuesToNotBeNull", column="persona_id"),
        Expectation("ExpectColumnValuesToBeBetween", column="agent_idx", min_value=0),
        Expectation("ExpectColumnValuesToBeInSet", column="aligned", value_set=[True, False]),
    ])
