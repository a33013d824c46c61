"""Incremental scoring: score only utterances that this scorer version has not scored, in batches.

Each batch is one transaction, so a crash loses at most a batch, and a rerun continues where it stopped.
Outside a scorer's coverage every declared dimension gets an abstained row (value NULL), never a guess.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from scoring.base import Scorer, Utterance, Values
from warehouse import transaction
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


_PENDING = """
    select u.utterance_id, r.language, u.channel, u.text, u.run_id, u.turn, u.agent_idx
    from raw.utterances u
    join raw.runs r using (run_id)
    where (? or r.language in (select unnest(?)))
      and (? or u.channel in (select unnest(?)))
      and not exists (
        select 1 from raw.scores s
        where s.utterance_id = u.utterance_id and s.scorer = ? and s.scorer_version = ?
      )
    order by u.utterance_id
    limit ?
"""


def _pending(con: duckdb.DuckDBPyConnection, scorer: Scorer, batch_size: int,
             languages: Sequence[str] | None) -> list[Utterance]:
    rows = con.execute(_PENDING, [languages is None, list(languages or []), scorer.channels is None,
                                  list(scorer.channels or []), scorer.name, scorer.version, batch_size]).fetchall()
    return [Utterance(*row) for row in rows]


def _groups(con: duckdb.DuckDBPyConnection, pending: Sequence[Utterance]) -> list[list[Utterance]]:
    """Every talk and monologue of the (run, turn)s the pending utterances belong to."""
    keys = sorted({(u.run_id, u.turn) for u in pending})
    rows = con.execute("""
        select u.utterance_id, r.language, u.channel, u.text, u.run_id, u.turn, u.agent_idx
        from raw.utterances u join raw.runs r using (run_id)
        join (select unnest(?) as run_id, unnest(?) as turn) k on u.run_id = k.run_id and u.turn = k.turn
        where u.channel in ('talk', 'monologue')
        order by u.run_id, u.turn, u.agent_idx, u.channel""", [[k[0] for k in keys], [k[1] for k in keys]]).fetchall()
    grouped: dict[tuple[str, int], list[Utterance]] = defaultdict(list)
    for row in rows:
        utterance = Utterance(*row)
        grouped[(utterance.run_id, utterance.turn)].append(utterance)
    return [grouped[k] for k in keys]


def _rows(scorer: Scorer, utterance: Utterance, values: Values | None, now: object,
          stats: ScoringStats) -> list[dict]:
    stats.languages.add(utterance.language)
    base = dict(utterance_id=utterance.utterance_id, scorer=scorer.name, scorer_version=scorer.version,
                model_id=scorer.model_id(utterance.language) if values is not None else "none", created_at=now)
    if values is None:
        stats.utterances_abstained += 1
        return [dict(base, dimension=d, value=None, abstained=True) for d in scorer.dimensions]
    stats.utterances_scored += 1
    return [dict(base, dimension=d, value=v, abstained=v is None) for d, v in values.items()]


def score_pending(con: duckdb.DuckDBPyConnection, scorer: Scorer, *, batch_size: int = 20_000,
                  languages: Sequence[str] | None = None) -> ScoringStats:
    """Score every unscored utterance (of ``languages`` when given) in the scorer's channels."""
    stats = ScoringStats()
    scorer.bind(con)
    if scorer.grouped:
        batch_size = max(1, batch_size // 10)  # groups bring their turn's other utterances along
    while batch := _pending(con, scorer, batch_size, languages):
        now = utc_now()
        rows: list[dict] = []
        if scorer.grouped:
            by_id = {u.utterance_id: u for u in batch}
            values = scorer.score_groups(_groups(con, batch))
            for utterance_id, utterance in by_id.items():
                rows += _rows(scorer, utterance, values.get(utterance_id), now, stats)
        else:
            for utterance, item in zip(batch, scorer.score_batch(batch), strict=True):
                rows += _rows(scorer, utterance, item, now, stats)
        with transaction(con):
            written = insert_ignore(con, "raw.scores", rows)
        stats.rows_written += written
    logger.info("%s scored %d utterances (%d abstained)", scorer.name, stats.utterances_scored,
                stats.utterances_abstained)
    return stats
