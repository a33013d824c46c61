"""Gather published language shards into the main file's ``raw.*`` tables, before dbt reads them.

A shard is the authority for its runs: gathering one replaces main's rows of those runs (utterances, superseded
turns, scores) with the shard's, so a turn the shard superseded is superseded in main too, and appends the
completions main lacks to ``raw.llm_calls``. ``raw.shard_loads`` records the generation loaded per shard, so a
shard that did not change since is skipped: gathering is incremental and a second gather is a no-op.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from warehouse.connection import sql_path, transaction
from warehouse.raw_io import utc_now
from warehouse.schema import ensure_raw_schema
from warehouse.shards import published_shards, shard_key

if TYPE_CHECKING:
    from pathlib import Path

    import duckdb

logger = logging.getLogger(__name__)
SHARD_LOADS = """
    study VARCHAR NOT NULL,
    language VARCHAR NOT NULL,
    generation BIGINT NOT NULL,
    loaded_at TIMESTAMPTZ,
    PRIMARY KEY (study, language)"""
_ALIAS = "backfire_shard"
_MIRRORED = ("utterances", "utterances_superseded")
"""Tables whose rows of the shard's runs main replaces with the shard's."""


@dataclass
class GatherStats:
    loaded: list[str] = field(default_factory=list)
    """``study/language`` of each shard loaded this time."""
    unchanged: int = 0
    utterances: int = 0
    scores: int = 0
    llm_calls: int = 0


def _count(con: duckdb.DuckDBPyConnection, sql: str) -> int:
    return int(con.execute(sql).fetchone()[0])  # type: ignore[index]  # a count always returns a row


def _load(con: duckdb.DuckDBPyConnection, stats: GatherStats) -> None:
    """Mirror the attached shard's runs into main, in the caller's transaction."""
    runs = f"(select run_id from {_ALIAS}.raw.runs)"
    con.execute(f"insert or ignore into raw.runs by name select * from {_ALIAS}.raw.runs")
    con.execute(f"insert or ignore into raw.agents by name select * from {_ALIAS}.raw.agents")
    con.execute(f"delete from raw.scores where utterance_id in "
                f"(select utterance_id from raw.utterances where run_id in {runs})")
    for table in _MIRRORED:
        con.execute(f"delete from raw.{table} where run_id in {runs}")
        con.execute(f"insert into raw.{table} by name select * from {_ALIAS}.raw.{table}")
    con.execute(f"insert or ignore into raw.scores by name select * from {_ALIAS}.raw.scores")
    before = _count(con, "select count(*) from raw.llm_calls")
    con.execute(f"insert or ignore into raw.llm_calls by name select * from {_ALIAS}.raw.llm_calls")
    stats.llm_calls += _count(con, "select count(*) from raw.llm_calls") - before
    stats.utterances += _count(con, f"select count(*) from {_ALIAS}.raw.utterances")
    stats.scores += _count(con, f"select count(*) from {_ALIAS}.raw.scores")


def gather_shards(con: duckdb.DuckDBPyConnection, main: Path) -> GatherStats:
    """Load every published shard of the warehouse at ``main`` (open on ``con``, read-write) that changed since
    it was last gathered. Each shard loads in one transaction: a failure leaves main as it was before that shard."""
    stats = GatherStats()
    shards = published_shards(main)
    if not shards:
        return stats
    ensure_raw_schema(con)
    con.execute(f"CREATE TABLE IF NOT EXISTS raw.shard_loads ({SHARD_LOADS})")
    loaded = {(s, lang): g for s, lang, g in con.execute(
        "select study, language, generation from raw.shard_loads").fetchall()}
    for path in shards:
        study, language = shard_key(path)
        con.execute(f"ATTACH '{sql_path(path)}' AS {_ALIAS} (READ_ONLY)")
        try:
            generation = con.execute(f"select generation from {_ALIAS}.raw.shard_meta where study = ? and "
                                     "language = ?", [study, language]).fetchone()
            if generation is None or loaded.get((study, language)) == generation[0]:
                stats.unchanged += 1
                continue
            with transaction(con):
                _load(con, stats)
                con.execute("insert or replace into raw.shard_loads values (?, ?, ?, ?)",
                            [study, language, generation[0], utc_now()])
            stats.loaded.append(f"{study}/{language}")
        finally:
            con.execute(f"DETACH {_ALIAS}")
    if stats.loaded:
        logger.info("gathered %d shard(s) into %s: %s", len(stats.loaded), main, ", ".join(stats.loaded))
    return stats
