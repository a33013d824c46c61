"""Score every gold sentence with a scorer and compare with the gold labels: the rows of
``raw.scorer_validation`` (per language x breakdown x category) and ``raw.scorer_register_errors`` (the
differential error check, per language and pooled as ``all``)."""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from core.errors import BackfireError
from scoring.base import Scorer, Utterance
from scoring.validation.agreement import label_agreement
from scoring.validation.gold import GoldSentence, GoldSet, gold_set_hash
from scoring.validation.metrics import DIFFERENTIAL_MARGIN, Scored, language_rows, register_errors
from scoring.validation.stance import predicted_stance, stance_family

if TYPE_CHECKING:
    import duckdb

logger = logging.getLogger(__name__)
POOLED = "all"
"""The ``language`` of the register rows pooled over every evaluated language."""


@dataclass
class Evaluation:
    """One scorer's evaluation on one split: rows for the two raw tables, and what was left out."""

    scorer: str
    scorer_version: str
    split: str
    validation_rows: list[dict[str, Any]] = field(default_factory=list)
    register_rows: list[dict[str, Any]] = field(default_factory=list)
    abstained_languages: list[str] = field(default_factory=list)
    """Languages with gold sentences where the scorer scored none (never validated there)."""
    n_outside_channels: int = 0
    """Gold sentences of channels the scorer does not read (the judge reads talk only)."""


def score_gold(scorer: Scorer, sentences: Sequence[GoldSentence]) -> list[Scored]:
    """The scorer's stance on each gold sentence of its channels, through its own ``score_batch``."""
    family = stance_family(scorer)
    if family is None:
        raise BackfireError(f"the scorer '{scorer.name}' has no pathology/protective dimensions, so it takes no "
                            "stance the gold set can check", field="--scorer",
                            fix="evaluate stance scorers: lexicon, classifier, zero-shot or judge")
    readable = [s for s in sentences if scorer.channels is None or s.channel in scorer.channels]
    utterances = [Utterance(utterance_id=s.id, language=s.language, channel=s.channel, text=s.text)
                  for s in readable]
    values = scorer.score_batch(utterances) if utterances else []
    return [Scored(s, predicted_stance(family, v)) for s, v in zip(readable, values, strict=True)]


def evaluate_scorer(scorer: Scorer, gold: GoldSet, *, split: str = "test", languages: Sequence[str] | None = None,
                    margin: float = DIFFERENTIAL_MARGIN, con: duckdb.DuckDBPyConnection | None = None,
                    now: dt.datetime | None = None) -> Evaluation:
    """Evaluate one scorer on the gold ``split`` of ``languages`` (default: every gold language).

    Args:
        scorer: a built scorer (any registered stance scorer; see ``scoring.validation.stance``).
        gold: the loaded gold set.
        split: ``test`` (the default; what results are reported on) or ``dev`` (what lexicon work may tune on).
        languages: languages to evaluate; others are skipped.
        margin: the differential error check's margin.
        con: a warehouse connection for scorers that keep a cache there (the judge), else none.
        now: the evaluation's timestamp (UTC).
    """
    if con is not None:
        scorer.bind(con)
    sentences = gold.select(split=split, languages=languages)
    scored = score_gold(scorer, sentences)
    now = now or dt.datetime.now(dt.UTC)
    result = Evaluation(scorer.name, scorer.version, split, n_outside_channels=len(sentences) - len(scored))
    by_language: dict[str, list[Scored]] = defaultdict(list)
    for item in scored:
        by_language[item.gold.language].append(item)
    base = {"scorer": scorer.name, "scorer_version": scorer.version, "split": split, "evaluated_at": now}
    pooled: list[Scored] = []
    for language in sorted({s.language for s in sentences}):
        items = by_language.get(language, [])
        if not any(i.stance is not None for i in items):
            result.abstained_languages.append(language)
            logger.warning("%s scored no gold sentence of %s: not validated there", scorer.name, language)
            continue
        pooled += items
        agreement = label_agreement(gold.select(split=split, languages=[language]), language)
        where = {**base, "language": language, "model_id": scorer.model_id(language),
                 "gold_hash": gold.hashes[language]}
        extra = {"n_abstained": sum(i.stance is None for i in items),
                 "n_disagreed": agreement.n_disagreed + agreement.n_missing_b,
                 "gold_kappa_label": agreement.kappa_label, "gold_kappa_subcategory": agreement.kappa_subcategory}
        for row in language_rows(items):
            result.validation_rows.append({**where, **row, **(extra if row["breakdown"] == "overall" else {})})
        result.register_rows.append({**where, **register_errors(items, margin)})
    if pooled:
        evaluated = sorted({i.gold.language for i in pooled})
        hashes = GoldSet((), {code: gold.hashes[code] for code in evaluated})
        result.register_rows.append({**base, "language": POOLED, "model_id": POOLED,
                                     "gold_hash": gold_set_hash(hashes), **register_errors(pooled, margin)})
    return result


def store_evaluation(con: duckdb.DuckDBPyConnection, evaluation: Evaluation) -> int:
    """Write an evaluation's rows (a rerun of the same scorer version on the same gold files replaces them)."""
    from warehouse import transaction
    from warehouse.raw_io import upsert

    with transaction(con):
        written = upsert(con, "raw.scorer_validation", evaluation.validation_rows)
        written += upsert(con, "raw.scorer_register_errors", evaluation.register_rows)
    return written
