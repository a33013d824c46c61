"""Incremental scoring: score only utterances that this scorer version has not scored, in batches."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from scoring.base import Scorer, Utterance
from warehouse.raw_io import insert_ignore, utc_now

if TYPE_CHECKING:
    import duckdb

logger = logging.getLogger(__name__)


@dataclass
class ScoringStats:
    utterances_scored: int = 0
    utterances_abstained: int = 0
    rows_written: int = 0
    languages: set[str] = field(default_factory=set)


def _pending(con: duckdb.DuckDBPyConnection, scorer: Scorer, batch_size: int,
             languages: Sequence[str] | None) -> list[Utterance]:
    rows = con.execute(
        """
        select u.utterance_id, r.language, u.channel, u.text
        from raw.utterances u
        join raw.runs r using (run_id)
        where (? or r.language in (select unnest(?)))
          and not exists (
            select 1 from raw.scores s
            where s.utterance_id = u.utterance_id and s.scorer = ? and s.scorer_version = ?
        )
        order by u.utterance_id
        limit ?
        """, [languages is None, list(languages or []), scorer.name, scorer.version, batch_size]).fetchall()
    return [Utterance(*row) for row in rows]


def score_pending(con: duckdb.DuckDBPyConnection, scorer: Scorer, *, batch_size: int = 20_000,
                  languages: Sequence[str] | None = None) -> ScoringStats:
    """Score every unscored utterance (of ``languages`` when given); each batch is one transaction, so a crash
    loses at most a batch."""
    stats = ScoringStats()
    while batch := _pending(con, scorer, batch_size, languages):
        now = utc_now()
        rows = []
        for utterance, values in zip(batch, scorer.score_batch(batch), strict=True):
            base = dict(utterance_id=utterance.utterance_id, scorer=scorer.name, scorer_version=scorer.version,
                        model_id=scorer.model_id(utterance.language) if values is not None else "none",
                        created_at=now)
            stats.languages.add(utterance.language)
            if values is None:
                stats.utterances_abstained += 1
                rows += [dict(base, dimension=d, value=None, abstained=True) for d in scorer.dimensions]
            else:
                stats.utterances_scored += 1
                rows += [dict(base, dimension=d, value=v, abstained=False) for d, v in values.items()]
        con.execute("BEGIN TRANSACTION")
        stats.rows_written += insert_ignore(con, "raw.scores", rows)
        con.execute("COMMIT")
    logger.info("%s scored %d utterances (%d abstained)", scorer.name, stats.utterances_scored,
                stats.utterances_abstained)
    return stats
