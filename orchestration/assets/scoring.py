"""Scoring stage, partitioned by language: every scorer over the partition's utterances it has not scored."""


import dagster as dg

from orchestration.assets.simulation import UTTERANCES
from orchestration.metadata import markdown_table
from orchestration.partitions import partition_languages
from orchestration.resources import DUCKDB_WRITER_POOL, WarehouseResource
from scoring import get_scorer, score_pending

SCORES = dg.AssetKey(["raw", "scores"])


def build_scores_asset(partitions: dg.PartitionsDefinition) -> dg.AssetsDefinition:
    @dg.asset(key=SCORES, group_name="scoring", pool=DUCKDB_WRITER_POOL, partitions_def=partitions,
              deps=[UTTERANCES], kinds={"python", "duckdb"},
              description="One row per (utterance_id, scorer, scorer_version, dimension), long format. "
                          "Partitioned by language like raw/utterances; scoring is incremental.")
    def scores(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
        languages = partition_languages(context)
        scorer = get_scorer("lexicon")
        with warehouse.writer() as con:
            stats = score_pending(con, scorer, languages=languages)
            per_language = con.execute("""
                select r.language, count(distinct s.utterance_id) as utterances,
                       count(distinct s.utterance_id) filter (s.abstained) as abstained, count(*) as rows
                from raw.scores s join raw.utterances u using (utterance_id) join raw.runs r using (run_id)
                where r.language in (select unnest(?)) and s.scorer = ? and s.scorer_version = ?
                group by 1 order by 1""", [languages, scorer.name, scorer.version]).fetchall()
        context.log.info("scoring [%s]: %d utterances scored, %d abstained", ", ".join(languages),
                         stats.utterances_scored, stats.utterances_abstained)
        return dg.MaterializeResult(metadata={
            "scorer": f"{scorer.name} v{scorer.version}", "utterances_scored": stats.utterances_scored,
            "utterances_abstained": stats.utterances_abstained, "rows_written": stats.rows_written,
            "rows": sum(row[3] for row in per_language),
            "languages": ", ".join(row[0] for row in per_language) or "none",
            "by_language": dg.MetadataValue.md(markdown_table(
                ["language", "utterances scored (all time)", "abstained", "score rows"], per_language)),
        })

    return scores
