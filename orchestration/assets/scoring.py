"""Scoring stage: the metric-v1 lexicon scorer over every utterance it has not scored yet."""


import dagster as dg

from orchestration.assets.simulation import UTTERANCES
from orchestration.resources import DUCKDB_WRITER_POOL, WarehouseResource
from scoring import get_scorer, score_pending

SCORES = dg.AssetKey(["raw", "scores"])


@dg.asset(key=SCORES, group_name="scoring", pool=DUCKDB_WRITER_POOL,
          deps=[UTTERANCES], kinds={"python", "duckdb"},
          description="One row per (utterance_id, scorer, scorer_version, dimension), long format.")
def scores(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    scorer = get_scorer("lexicon")
    with warehouse.writer() as con:
        stats = score_pending(con, scorer)
    context.log.info("scoring: %d utterances scored, %d abstained", stats.utterances_scored,
                     stats.utterances_abstained)
    return dg.MaterializeResult(metadata={
        "scorer": f"{scorer.name} v{scorer.version}", "utterances_scored": stats.utterances_scored,
        "utterances_abstained": stats.utterances_abstained, "rows_written": stats.rows_written,
        "languages": ", ".join(sorted(stats.languages)),
    })
