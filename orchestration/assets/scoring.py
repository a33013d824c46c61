"""Scoring stage, partitioned by language: the lexicon scorer (metric v1) and the study's model-based
scorers (metric v2) over the partition's utterances each has not scored yet."""


import dagster as dg

from analysis.tables import render_table
from orchestration.assets.simulation import UTTERANCES
from orchestration.partitions import partition_languages
from orchestration.resources import DUCKDB_WRITER_POOL, StudyResource, WarehouseResource
from scoring import ScoringStats, build_scorer, get_scorer, score_pending

SCORES = dg.AssetKey(["raw", "scores"])


def build_scores_asset(partitions: dg.PartitionsDefinition) -> dg.AssetsDefinition:
    @dg.asset(key=SCORES, group_name="scoring", pool=DUCKDB_WRITER_POOL, partitions_def=partitions,
              deps=[UTTERANCES], kinds={"python", "duckdb"},
              description="One row per (utterance_id, scorer, scorer_version, dimension), long format. "
                          "Partitioned by language like raw/utterances; scoring is incremental.")
    def scores(context: dg.AssetExecutionContext, warehouse: WarehouseResource,
               study: StudyResource) -> dg.MaterializeResult:
        languages = partition_languages(context)
        scorers = [get_scorer("lexicon"), *(build_scorer(entry) for entry in study.load().scorers)]
        summary, total = [], ScoringStats()
        with warehouse.writer() as con:
            for scorer in scorers:
                stats = score_pending(con, scorer, languages=languages)
                summary.append((scorer.name, scorer.version, scorer.device, stats.utterances_scored,
                                stats.utterances_abstained, stats.rows_written))
                total.utterances_scored += stats.utterances_scored
                total.utterances_abstained += stats.utterances_abstained
                total.rows_written += stats.rows_written
            per_language = con.execute("""
                select r.language, s.scorer, count(distinct s.utterance_id) filter (not s.abstained) as scored,
                       count(distinct s.utterance_id) filter (s.abstained) as abstained, count(*) as rows
                from raw.scores s join raw.utterances u using (utterance_id) join raw.runs r using (run_id)
                where r.language in (select unnest(?)) group by 1, 2 order by 1, 2""", [languages]).fetchall()
        context.log.info("scoring [%s]: %d utterances scored, %d abstained by %s", ", ".join(languages),
                         total.utterances_scored, total.utterances_abstained, ", ".join(s.name for s in scorers))
        return dg.MaterializeResult(metadata={
            "scorers": ", ".join(f"{s.name} v{s.version}" for s in scorers),
            "utterances_scored": total.utterances_scored, "utterances_abstained": total.utterances_abstained,
            "rows_written": total.rows_written, "rows": sum(row[4] for row in per_language),
            "languages": ", ".join(sorted({row[0] for row in per_language})) or "none",
            "this_run": dg.MetadataValue.md(render_table(
                ["scorer", "version", "device", "scored", "abstained", "rows"], summary, markdown=True)),
            "by_language": dg.MetadataValue.md(render_table(
                ["language", "scorer", "utterances scored (all time)", "abstained", "score rows"], per_language,
                markdown=True)),
        })

    return scores
