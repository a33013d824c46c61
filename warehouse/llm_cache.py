"""The response cache (``raw.llm_calls``): content-addressed completions, so no call is paid for twice.

A row is written as soon as a call succeeds, before its turn is stored, so a run killed between the two
replays the turn from the cache on resume instead of calling the endpoint again.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from simulation.backends.base import Reply
from warehouse.raw_io import upsert, utc_now

if TYPE_CHECKING:
    import duckdb


class DuckDBResponseCache:
    def __init__(self, con: duckdb.DuckDBPyConnection, *, read: bool = True) -> None:
        self.con = con
        self.read = read
        self.hits = 0
        self.writes = 0

    def get(self, call_key: str) -> Reply | None:
        if not self.read:
            return None
        row = self.con.execute("select response_text, status, tokens_in, tokens_out, latency_ms from raw.llm_calls "
                               "where call_key = ?", [call_key]).fetchone()
        if row is None:
            return None
        self.hits += 1
        return Reply(text=row[0], status=row[1], tokens_in=row[2], tokens_out=row[3], latency_ms=row[4],
                     cache_hit=True)

    def put(self, call_key: str, model: str, endpoint: str, reply: Reply) -> None:
        """Store a successful completion (errors are not cached: they should be retried)."""
        if reply.status == "error":
            return
        upsert(self.con, "raw.llm_calls", [dict(
            call_key=call_key, model=model, endpoint=endpoint, response_text=reply.text, status=reply.status,
            tokens_in=reply.tokens_in, tokens_out=reply.tokens_out, latency_ms=reply.latency_ms,
            created_at=utc_now())])
        self.writes += 1
