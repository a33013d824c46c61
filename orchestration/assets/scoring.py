"""Scoring stage, partitioned by language: the lexicon scorer (metric v1), then the study's model-based
scorers (metric v2), or the ones a rescore names, over the partition's utterances each has not scored yet."""


import contextlib
import functools
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import dagster as dg
from pydantic import Field

from analysis.tables import render_table
from orchestration.assets.simulation import UTTERANCES
from orchestration.partitions import partition_languages
from orchestration.resources import PARTITION_POOL, StudyResource, WarehouseResource
from scoring import Scorer, build_scorer, get_scorer, score_pending
from scoring.spec import parse_scorer

if TYPE_CHECKING:
    import duckdb

SCORES = dg.AssetKey(["raw", "scores"])
STANCE_LEXICON = "lexicon-v1.1"


class ScoringConfig(dg.Config):
    scorers: list[str] | None = Field(
        default=None, description="Scorers to run after the lexicon instead of the study's `scorers:`, each as "
                                  "NAME[:MODEL][?key=value&...] (what `backfire score --scorer` passes).")


@functools.cache
def cached_scorer(spec: str) -> Scorer:
    """One load per process: a rescore runs one Dagster run per language, in-process, on the same models
    (and ``backfire score`` loads them all before its first run, so a bad model fails before anything)."""
    return build_scorer(parse_scorer(spec))


def _scorers(config: ScoringConfig, study: StudyResource) -> list[Scorer]:
    if config.scorers is not None:
        extra = [cached_scorer(spec) for spec in config.scorers]
    else:
        loaded = study.load()
        extra = [build_scorer(entry) for entry in loaded.scorers]
        if loaded.analysis.metric_spec == "v1.1" and all(s.name != STANCE_LEXICON for s in extra):
            extra.insert(0, cached_scorer(STANCE_LEXICON))  # the lexicon a v1.1 study's marts read
    return [get_scorer("lexicon"), *extra]


_PER_LANGUAGE = """
    select r.language, s.scorer, count(distinct s.utterance_id) filter (not s.abstained) as scored,
           count(distinct s.utterance_id) filter (s.abstained) as abstained, count(*) as rows
    from raw.scores s join raw.utterances u using (utterance_id) join raw.runs r using (run_id)
    where r.language in (select unnest(?)) group by 1, 2 order by 1, 2"""


def _targets(config: ScoringConfig, warehouse: WarehouseResource, study: StudyResource,
             languages: list[str]) -> list[Callable[[], Any]]:
    """Where the step scores: the main file (single layout, every study's utterances of the languages, as a
    rescore wants); in the sharded layout each (study, language) shard, the run's own study's, or every study's
    for a rescore (``scorers`` given), each published after scoring."""
    if not warehouse.sharded:
        @contextlib.contextmanager
        def main() -> Iterator[tuple["duckdb.DuckDBPyConnection", list[str]]]:
            with warehouse.writer() as con:
                yield con, languages
        return [main]
    pairs = ([(name, lang) for lang in languages for name in warehouse.partition_studies(lang)]
             if config.scorers is not None else
             [(spec.name, lang) for spec in [study.load()] for lang in languages if lang in spec.design.languages])

    def shard(name: str, language: str) -> Callable[[], Any]:
        @contextlib.contextmanager
        def opened() -> Iterator[tuple["duckdb.DuckDBPyConnection", list[str]]]:
            with warehouse.partition_writer(name, language) as con:
                yield con, [language]
        return opened
    return [shard(name, lang) for name, lang in pairs]


def _summed(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """Per (language, scorer) counts added up over the shards they came from."""
    totals: dict[tuple[Any, Any], list[int]] = {}
    for language, scorer, *counts in rows:
        total = totals.setdefault((language, scorer), [0] * len(counts))
        for i, count in enumerate(counts):
            total[i] += count
    return [(*key, *counts) for key, counts in sorted(totals.items())]


def build_scores_asset(partitions: dg.PartitionsDefinition) -> dg.AssetsDefinition:
    @dg.asset(key=SCORES, group_name="scoring", pool=PARTITION_POOL, partitions_def=partitions,
              deps=[UTTERANCES], kinds={"python", "duckdb"},
              description="One row per (utterance_id, scorer, scorer_version, dimension), long format. "
                          "Partitioned by language like raw/utterances; scoring is incremental.")
    def scores(context: dg.AssetExecutionContext, config: ScoringConfig, warehouse: WarehouseResource,
               study: StudyResource) -> dg.MaterializeResult:
        languages = partition_languages(context)
        scorers = _scorers(config, study)  # every model loads before anything is written
        totals: dict[tuple[str, str], dict[str, Any]] = {}
        per_language: list[tuple[Any, ...]] = []
        for target in _targets(config, warehouse, study, languages):
            with target() as (con, target_languages):
                for scorer in scorers:
                    started = time.perf_counter()
                    stats = score_pending(con, scorer, languages=target_languages)
                    row = totals.setdefault((scorer.name, scorer.version), {
                        "scorer": scorer.name, "version": scorer.version, "device": scorer.device, "scored": 0,
                        "abstained": 0, "rows": 0, "seconds": 0.0})
                    row["scored"] += stats.utterances_scored
                    row["abstained"] += stats.utterances_abstained
                    row["rows"] += stats.rows_written
                    row["seconds"] = round(row["seconds"] + time.perf_counter() - started, 3)
                per_language += con.execute(_PER_LANGUAGE, [target_languages]).fetchall()
        summary = list(totals.values())
        per_language = _summed(per_language)
        scored = sum(row["scored"] for row in summary)
        abstained = sum(row["abstained"] for row in summary)
        context.log.info("scoring [%s]: %d utterances scored, %d abstained by %s", ", ".join(languages), scored,
                         abstained, ", ".join(s.name for s in scorers))
        return dg.MaterializeResult(metadata={
            "scorers": ", ".join(f"{s.name} v{s.version}" for s in scorers),
            "utterances_scored": scored, "utterances_abstained": abstained,
            "rows_written": sum(row["rows"] for row in summary), "rows": sum(row[4] for row in per_language),
            "languages": ", ".join(sorted({row[0] for row in per_language})) or "none",
            "scorer_stats": dg.MetadataValue.json(summary),
            "this_run": dg.MetadataValue.md(render_table(
                ["scorer", "version", "device", "scored", "abstained", "rows", "seconds"],
                [tuple(row.values()) for row in summary], markdown=True)),
            "by_language": dg.MetadataValue.md(render_table(
                ["language", "scorer", "utterances scored (all time)", "abstained", "score rows"], per_language,
                markdown=True)),
        })

    return scores
