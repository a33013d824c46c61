"""The DuckDB side of the simulation: which turns are already stored, and one transaction per turn."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from simulation.prompts import TurnRecord
from warehouse.raw_io import insert_ignore

if TYPE_CHECKING:
    import duckdb


class DuckDBTranscriptStore:
    """Stores utterances turn by turn, so a killed run resumes at the first missing (run, turn)."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con
        self.rows_written = 0

    def load_history(self, run_ids: Sequence[str], n_agents: dict[str, int]) -> dict[str, list[list[TurnRecord]]]:
        """Completed turns per run, oldest first; a turn counts only when every agent's talk is stored."""
        if not run_ids:
            return {}
        rows = self.con.execute(
            """
            select run_id, turn, agent_idx,
                   max(case when channel = 'talk' then text end) as talk,
                   max(case when channel = 'monologue' then text end) as monologue
            from raw.utterances
            where run_id in (select unnest(?))
            group by all
            order by run_id, turn, agent_idx
            """, [list(run_ids)]).fetchall()
        by_run: dict[str, dict[int, list[TurnRecord]]] = defaultdict(lambda: defaultdict(list))
        for run_id, turn, agent_idx, talk, monologue in rows:
            by_run[run_id][turn].append(TurnRecord(turn, agent_idx, talk or "", monologue or ""))
        history: dict[str, list[list[TurnRecord]]] = {}
        for run_id, turns in by_run.items():
            complete: list[list[TurnRecord]] = []
            for turn in sorted(turns):
                if turn != len(complete) + 1 or len(turns[turn]) != n_agents[run_id]:
                    break
                complete.append(turns[turn])
            history[run_id] = complete
        return history

    def write_turn(self, rows: Sequence[dict[str, Any]]) -> None:
        """All utterances of one (run, turn) in one transaction: a turn is stored whole or not at all."""
        self.con.execute("BEGIN TRANSACTION")
        try:
            self.rows_written += insert_ignore(self.con, "raw.utterances", rows)
            self.con.execute("COMMIT")
        except Exception:
            self.con.execute("ROLLBACK")
            raise
