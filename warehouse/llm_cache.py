"""The response cache (``raw.llm_calls``): content-addressed completions, so no call is paid for twice.

A DuckDB insert costs ~8 ms of CPU, so writing each completion to DuckDB as it arrives would cap a study at
~120 calls/s on one core. Instead each completion is appended to a journal file next to the warehouse the
moment it arrives (one ``write`` of one JSON line, ~20 us) and the journal is moved into ``raw.llm_calls`` in
batches (every second, and when the simulation ends). The journal survives a SIGKILL (the data is in the
kernel's page cache once ``write`` returns); the next open of the cache replays it, so a run killed between a
paid call and its stored turn replays that turn from the cache instead of calling the endpoint again.

Lookups stay off DuckDB too: the keys already stored are read once into a set, so a miss (the common case
in a fresh study) costs a set lookup and only a hit reads its row.

A language shard (``warehouse.shards``) holds only its own completions; with ``fallback`` (the main file) the
cache also answers from main's ``raw.llm_calls`` (another study's identical calls, an imported bundle's cache, a
warehouse written before shards). Main is opened once for its keys; it is attached, read-only, only on the first
hit there, and every such hit is copied into the shard, so the next run finds it locally.
"""

from __future__ import annotations

import json
import logging
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.errors import WarehouseError
from core.records import Reply
from warehouse.connection import connect, sql_path, table_exists
from warehouse.raw_io import upsert, utc_now

if TYPE_CHECKING:
    import duckdb

logger = logging.getLogger(__name__)
JOURNAL_SUFFIX = ".llm_calls.journal"
_FALLBACK_ALIAS = "backfire_cache_fallback"
FALLBACK_WAIT_S = 5.0
_ROW_COLUMNS = ("call_key, model, endpoint, response_text, status, tokens_in, tokens_out, latency_ms, cost_usd, "
                "created_at, served_model, system_fingerprint")


def journal_path_for(con: duckdb.DuckDBPyConnection) -> Path | None:
    """``<warehouse file>.llm_calls.journal``, or None for an in-memory warehouse."""
    row = con.execute("select path from duckdb_databases() where database_name = current_database()").fetchone()
    path = row[0] if row else None
    return Path(path + JOURNAL_SUFFIX) if path else None


class DuckDBResponseCache:
    """Cache reads and writes for one simulation; ``flush`` moves journaled completions into DuckDB."""

    def __init__(self, con: duckdb.DuckDBPyConnection, *, read: bool = True, flush_rows: int = 512,
                 flush_interval_s: float = 1.0, fallback: Path | None = None) -> None:
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
        self._fallback = fallback if read and fallback is not None and fallback.is_file() else None
        self._fallback_keys: set[str] = set()
        self._fallback_attached = False
        if self._fallback is not None:
            self._fallback_keys = self._keys_of(self._fallback) - self._stored_keys

    @staticmethod
    def _keys_of(path: Path) -> set[str]:
        """The keys another warehouse stores; none (with a warning) while its writer holds it for long: main is
        a fallback, a partition never waits on it."""
        try:
            with connect(path, read_only=True, wait_s=FALLBACK_WAIT_S) as other:
                if not table_exists(other, "raw", "llm_calls"):
                    return set()
                return {key for (key,) in other.execute("select call_key from raw.llm_calls").fetchall()}
        except WarehouseError as busy:
            logger.warning("the response cache does not read %s this time (%s); calls it holds and this shard "
                           "does not would be made again", path, busy)
            return set()

    def get(self, call_key: str) -> Reply | None:
        if not self.read:
            return None
        pending = self._pending.get(call_key)
        if pending is not None:
            self.hits += 1
            return _reply(pending["response_text"], pending["status"], pending["tokens_in"], pending["tokens_out"],
                          pending["latency_ms"], pending["served_model"], pending["system_fingerprint"])
        if call_key not in self._stored_keys:
            return self._from_fallback(call_key)
        row = self.con.execute("select response_text, status, tokens_in, tokens_out, latency_ms, served_model, "
                               "system_fingerprint from raw.llm_calls where call_key = ?", [call_key]).fetchone()
        if row is None:
            return None
        self.hits += 1
        return _reply(*row)

    def _from_fallback(self, call_key: str) -> Reply | None:
        """A completion main holds and this shard does not: copied into the shard (journaled like a new one)."""
        if call_key not in self._fallback_keys or self._fallback is None:
            return None
        if not self._fallback_attached:
            self.con.execute(f"ATTACH '{sql_path(self._fallback)}' AS {_FALLBACK_ALIAS} (READ_ONLY)")
            self._fallback_attached = True
        found = self.con.execute(f"select {_ROW_COLUMNS} from {_FALLBACK_ALIAS}.raw.llm_calls where call_key = ?",
                                 [call_key]).fetchone()
        if found is None:
            return None
        row = dict(zip([c.strip() for c in _ROW_COLUMNS.split(",")], found, strict=True))
        row["created_at"] = row["created_at"].isoformat() if row["created_at"] is not None else None
        self._journal_row(row)
        self.hits += 1
        return _reply(row["response_text"], row["status"], row["tokens_in"], row["tokens_out"], row["latency_ms"],
                      row["served_model"], row["system_fingerprint"])

    def close(self) -> None:
        """Store what is pending and let go of main (a read-only attachment would hold its lock)."""
        self.flush()
        if self._fallback_attached:
            self.con.execute(f"DETACH {_FALLBACK_ALIAS}")
            self._fallback_attached = False

    def _journal_row(self, row: dict[str, Any]) -> None:
        if self._journal_path is not None:
            if self._journal is None:
                self._journal = open(self._journal_path, "a", encoding="utf-8")  # noqa: SIM115 - closed in flush
            self._journal.write(json.dumps(row, ensure_ascii=False, default=str) + "\n")
            self._journal.flush()  # into the kernel: survives the process being killed
        self._pending[row["call_key"]] = row
        if len(self._pending) >= self.flush_rows or time.monotonic() - self._last_flush >= self.flush_interval_s:
            self.flush()

    def put(self, call_key: str, model: str, endpoint: str, reply: Reply) -> None:
        """Journal a successful completion now, store it with the next batch (errors are not cached: they
        should be retried)."""
        if reply.status == "error":
            return
        row = dict(call_key=call_key, model=model, endpoint=endpoint, response_text=reply.text, status=reply.status,
                   tokens_in=reply.tokens_in, tokens_out=reply.tokens_out, latency_ms=reply.latency_ms,
                   cost_usd=reply.cost_usd, created_at=utc_now().isoformat(), served_model=reply.served_model,
                   system_fingerprint=reply.system_fingerprint)
        self.writes += 1
        self._journal_row(row)

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
