"""The response cache (``raw.llm_calls``): content-addressed completions, so no call is paid for twice.

A DuckDB insert costs ~8 ms of CPU, so writing each completion to DuckDB as it arrives would cap a study at
~120 calls/s on one core. Instead each completion is appended to a journal file next to the warehouse the
moment it arrives (one ``write`` of one JSON line, ~20 us) and the journal is moved into ``raw.llm_calls`` in
batches (every second, and when the simulation ends). The journal survives a SIGKILL (the data is in the
kernel's page cache once ``write`` returns); the next open of the cache replays it, so a run killed between a
paid call and its stored turn replays that turn from the cache instead of calling the endpoint again.

Lookups stay off DuckDB too: the keys already stored are read once into a set, so a miss (the common case
in a fresh study) costs a set lookup and only a hit reads its row.
"""

from __future__ import annotations

import json
import logging
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.records import Reply
from warehouse.raw_io import upsert, utc_now

if TYPE_CHECKING:
    import duckdb

logger = logging.getLogger(__name__)
JOURNAL_SUFFIX = ".llm_calls.journal"


def journal_path_for(con: duckdb.DuckDBPyConnection) -> Path | None:
    """``<warehouse file>.llm_calls.journal``, or None for an in-memory warehouse."""
    row = con.execute("select path from duckdb_databases() where database_name = current_database()").fetchone()
    path = row[0] if row else None
    return Path(path + JOURNAL_SUFFIX) if path else None


class DuckDBResponseCache:
    """Cache reads and writes for one simulation; ``flush`` moves journaled completions into DuckDB."""

    def __init__(self, con: duckdb.DuckDBPyConnection, *, read: bool = True, flush_rows: int = 512,
                 flush_interval_s: float = 1.0) -> None:
        self.con = con
        self.read = read
        self.hits = 0
        self.writes = 0
        self.flush_rows = flush_rows
        self.flush_interval_s = flush_interval_s
        self._pending: dict[str, dict[str, Any]] = {}
        self._last_flush = time.monotonic()
        self._journal_path = journal_path_for(con)
        self._journal: Any = None
        self.replayed = self._replay_journal()
        self._stored_keys: set[str] = ({key for (key,) in con.execute("select call_key from raw.llm_calls").fetchall()}
                                       if read else set())

    def get(self, call_key: str) -> Reply | None:
        if not self.read:
            return None
        pending = self._pending.get(call_key)
        if pending is not None:
            self.hits += 1
            return _reply(pending["response_text"], pending["status"], pending["tokens_in"], pending["tokens_out"],
                          pending["latency_ms"], pending["served_model"], pending["system_fingerprint"])
        if call_key not in self._stored_keys:
            return None
        row = self.con.execute("select response_text, status, tokens_in, tokens_out, latency_ms, served_model, "
                               "system_fingerprint from raw.llm_calls where call_key = ?", [call_key]).fetchone()
        if row is None:
            return None
        self.hits += 1
        return _reply(*row)

    def put(self, call_key: str, model: str, endpoint: str, reply: Reply) -> None:
        """Journal a successful completion now, store it with the next batch (errors are not cached: they
        should be retried)."""
        if reply.status == "error":
            return
        row = dict(call_key=call_key, model=model, endpoint=endpoint, response_text=reply.text, status=reply.status,
                   tokens_in=reply.tokens_in, tokens_out=reply.tokens_out, latency_ms=reply.latency_ms,
                   cost_usd=reply.cost_usd, created_at=utc_now().isoformat(), served_model=reply.served_model,
                   system_fingerprint=reply.system_fingerprint)
        if self._journal_path is not None:
            if self._journal is None:
                self._journal = open(self._journal_path, "a", encoding="utf-8")  # noqa: SIM115 - closed in flush
            self._journal.write(json.dumps(row, ensure_ascii=False) + "\n")
            self._journal.flush()  # into the kernel: survives the process being killed
        self._pending[call_key] = row
        self.writes += 1
        if len(self._pending) >= self.flush_rows or time.monotonic() - self._last_flush >= self.flush_interval_s:
            self.flush()

    def flush(self) -> None:
        """Insert the pending completions in one statement, then empty the journal they came from."""
        self._last_flush = time.monotonic()
        if self._pending:
            upsert(self.con, "raw.llm_calls", list(self._pending.values()))
            if self.read:
                self._stored_keys.update(self._pending)
            self._pending = {}
        if self._journal is not None:
            self._journal.close()
            self._journal = None
            os.truncate(self._journal_path, 0)  # type: ignore[arg-type]  # set whenever a journal is open

    def _replay_journal(self) -> int:
        """Move completions a killed simulation journaled but never stored into ``raw.llm_calls``."""
        if self._journal_path is None or not self._journal_path.exists():
            return 0
        rows = []
        # Split on "\n" only: a reply may hold U+2028 or U+0085, which splitlines() would also break on.
        for line in self._journal_path.read_text(encoding="utf-8").split("\n"):
            if not line:
                continue
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError:  # the line being written when the process died
                continue
        if rows:
            upsert(self.con, "raw.llm_calls", list({row["call_key"]: row for row in rows}.values()))
            logger.info("replayed %d journaled completions from %s", len(rows), self._journal_path)
        os.truncate(self._journal_path, 0)
        return len(rows)


def _reply(text: str, status: str, tokens_in: int | None, tokens_out: int | None, latency_ms: float | None,
           served_model: str | None = None, system_fingerprint: str | None = None) -> Reply:
    """A cached completion keeps the served model and fingerprint it was first served with."""
    return Reply(text=text, status=status, tokens_in=tokens_in or 0,  # type: ignore[arg-type]  # stored statuses
                 tokens_out=tokens_out or 0, latency_ms=latency_ms or 0.0, cache_hit=True, served_model=served_model,
                 system_fingerprint=system_fingerprint)
