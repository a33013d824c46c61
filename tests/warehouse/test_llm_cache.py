"""The response cache's journal: what a killed process journaled is replayed, whatever the reply's text."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pytest

from simulation.backends.base import Reply
from warehouse.llm_cache import DuckDBResponseCache
from warehouse.schema import ensure_raw_schema


def test_journaled_replies_survive_a_kill_even_with_unicode_line_separators(tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    texts = ["plain", "line\u2028separator", "next\x85line", "para\u2029graph", '{"talk": "改行\\n"}']
    con = duckdb.connect(str(db))
    ensure_raw_schema(con)
    cache = DuckDBResponseCache(con, flush_interval_s=3600)
    for i, text in enumerate(texts):
        cache.put(f"k{i}", "m", "e", Reply(text=text, tokens_in=3, tokens_out=2, cost_usd=0.001))
    journal = Path(str(db) + ".llm_calls.journal")
    assert journal.stat().st_size > 0 and con.execute("select count(*) from raw.llm_calls").fetchone()[0] == 0
    con.close()  # the process dies here: nothing was flushed to DuckDB

    con = duckdb.connect(str(db))
    replayed = DuckDBResponseCache(con)
    assert replayed.replayed == len(texts) and journal.stat().st_size == 0
    for i, text in enumerate(texts):
        reply = replayed.get(f"k{i}")
        assert reply is not None and reply.text == text and reply.cache_hit
    assert con.execute("select sum(cost_usd) from raw.llm_calls").fetchone()[0] == pytest.approx(0.005)


class CountingConnection:
    """A DuckDB connection that records every statement sent through it (DuckDB's own class cannot be patched)."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self._con = con
        self.statements: list[str] = []

    def execute(self, query: str, *args: Any, **kwargs: Any) -> Any:
        self.statements.append(query)
        return self._con.execute(query, *args, **kwargs)

    def executemany(self, query: str, *args: Any, **kwargs: Any) -> Any:
        self.statements.append(query)
        return self._con.executemany(query, *args, **kwargs)

    def sql(self, query: str, *args: Any, **kwargs: Any) -> Any:
        self.statements.append(query)
        return self._con.sql(query, *args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._con, name)


def test_a_miss_costs_no_query_and_a_hit_costs_one() -> None:
    con = duckdb.connect()
    ensure_raw_schema(con)
    stored = DuckDBResponseCache(con)
    stored.put("stored", "m", "e", Reply(text="ok"))
    stored.flush()
    counted = CountingConnection(con)
    cache = DuckDBResponseCache(counted)  # type: ignore[arg-type]
    opened = len(counted.statements)  # reading the stored keys once
    assert opened > 0

    assert [cache.get(f"missing-{i}") for i in range(100)] == [None] * 100
    assert len(counted.statements) == opened  # a miss is a set lookup, not a query

    hit = cache.get("stored")
    assert hit is not None and hit.text == "ok" and hit.cache_hit
    assert len(counted.statements) == opened + 1  # only a hit reads its row


def test_errors_are_not_cached() -> None:
    con = duckdb.connect()
    ensure_raw_schema(con)
    cache = DuckDBResponseCache(con)
    cache.put("bad", "m", "e", Reply(text="", status="error", error="boom"))
    assert cache.get("bad") is None and cache.writes == 0
    cache.put("good", "m", "e", Reply(text="ok"))
    cache.flush()
    assert DuckDBResponseCache(con).get("good").text == "ok"  # an in-memory warehouse keeps no journal
