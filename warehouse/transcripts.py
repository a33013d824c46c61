"""The DuckDB side of the simulation: which turns are already stored, and one transaction per turn."""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from core.records import TurnRecord
from warehouse.connection import transaction
from warehouse.raw_io import insert_ignore

if TYPE_CHECKING:
    import duckdb


class DuckDBTranscriptStore:
    """Stores whole turns, so a killed run resumes at the first missing (run, turn).

    Finished turns are buffered briefly and written together (one insert costs ~7 ms whatever its size):
    a flush happens every ``flush_turns`` turns or ``flush_interval_s`` seconds, and at the end. A hard kill
    loses at most that window of finished turns, which resume replays; it never leaves a partial turn.
    """

    def __init__(self, con: duckdb.DuckDBPyConnection, *, flush_turns: int = 64, flush_interval_s: float = 1.0,
                 retry_errors: bool = True) -> None:
        self.con = con
        self.retry_errors = retry_errors
        """A turn with a call that finally failed (status ``error``) counts as not done, so it is played again."""
        self.rows_written = 0
        self.flush_turns = flush_turns
        self.flush_interval_s = flush_interval_s
        self._pending: list[dict[str, Any]] = []
        self._pending_turns = 0
        self._last_flush = time.monotonic()

    def load_history(self, run_ids: Sequence[str], n_agents: dict[str, int]) -> dict[str, list[list[TurnRecord]]]:
        """Completed turns per run, oldest first; a turn counts only when every agent's talk is stored."""
        if not run_ids:
            return {}
        rows = self.con.execute(
            """
            select run_id, turn, agent_idx,
                   max(case when channel = 'talk' then text end) as talk,
                   max(case when channel = 'monologue' then text end) as monologue,
                   bool_or(status = 'error') as failed
            from raw.utterances
            where run_id in (select unnest(?))
            group by all
            order by run_id, turn, agent_idx
            """, [list(run_ids)]).fetchall()
        by_run: dict[str, dict[int, list[TurnRecord]]] = defaultdict(lambda: defaultdict(list))
        failed_turns: dict[str, set[int]] = defaultdict(set)
        for run_id, turn, agent_idx, talk, monologue, failed in rows:
            by_run[run_id][turn].append(TurnRecord(turn, agent_idx, talk or "", monologue or ""))
            if failed:
                failed_turns[run_id].add(turn)
        history: dict[str, list[list[TurnRecord]]] = {}
        for run_id, turns in by_run.items():
            complete: list[list[TurnRecord]] = []
            for turn in sorted(turns):
                if (turn != len(complete) + 1 or len(turns[turn]) != n_agents[run_id]
                        or (self.retry_errors and turn in failed_turns[run_id])):
                    break
                complete.append(turns[turn])
            history[run_id] = complete
        return history

    def retire_turns_after(self, kept_turns: dict[str, int]) -> int:
        """Move stored turns past each run's kept prefix to ``raw.utterances_superseded`` before they are played
        again (a failed turn and the turns that followed it); their scores are derived, so they are dropped.

        Returns the number of utterances moved. Nothing is lost: the superseded rows keep their text and
        accounting, with the time they were superseded.
        """
        if not kept_turns:
            return 0
        import pandas as pd

        keep = pd.DataFrame({"run_id": list(kept_turns), "kept": list(kept_turns.values())})  # noqa: F841
        stale = "select u.utterance_id from raw.utterances u join keep k on u.run_id = k.run_id where u.turn > k.kept"
        moved = self.con.execute(f"select count(*) from ({stale})").fetchall()[0][0]
        if not moved:
            return 0
        with transaction(self.con):
            self.con.execute(f"""
                insert into raw.utterances_superseded by name
                select u.*, current_timestamp as superseded_at from raw.utterances u
                where u.utterance_id in ({stale})""")
            self.con.execute(f"delete from raw.scores where utterance_id in ({stale})")
            self.con.execute(f"delete from raw.utterances where utterance_id in ({stale})")
        return int(moved)

    def write_turn(self, rows: Sequence[dict[str, Any]]) -> None:
        """Queue all utterances of one (run, turn); they are committed together with other whole turns."""
        self._pending.extend(rows)
        self._pending_turns += 1
        if (self._pending_turns >= self.flush_turns
                or time.monotonic() - self._last_flush >= self.flush_interval_s):
            self.flush()

    def flush(self) -> None:
        """Commit every queued turn in one transaction: each turn is stored whole or not at all."""
        self._last_flush = time.monotonic()
        if not self._pending:
            return
        rows, self._pending, self._pending_turns = self._pending, [], 0
        with transaction(self.con):
            written = insert_ignore(self.con, "raw.utterances", rows)
        self.rows_written += written
