"""Cross-language statistics (run-level OLS, agent-level mixed model, Holm, permutation test) into
``marts.stats_models``."""

import dagster as dg

from analysis.tables import render_table
from orchestration.resources import DUCKDB_WRITER_POOL, WarehouseResource

RUN_METRICS = dg.AssetKey(["marts", "run_metrics"])
AGENT_METRICS = dg.AssetKey(["marts", "agent_metrics"])
STATS_MODELS = dg.AssetKey(["marts", "stats_models"])


@dg.asset(key=STATS_MODELS, group_name="analysis", deps=[RUN_METRICS, AGENT_METRICS], pool=DUCKDB_WRITER_POOL,
          kinds={"python", "duckdb"},
          description="CPI ~ aligned_share x language by OLS on runs; DI ~ aligned_share x language on agents "
                      "with a random intercept per run (REML; cluster-robust OLS if it fails); Holm-corrected "
                      "per-language slopes and a permutation test of the interaction, per (study, model, "
                      "evaluation_date, synthetic, metric). See analysis/stats_models.py.")
def stats_models(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    from analysis.stats_models import build_stats_models

    with warehouse.writer() as con:
        rows = build_stats_models(con)
        interaction = con.execute("""
            select study, model, metric, round(statistic, 3) as f, p_value
            from marts.stats_models where analysis = 'interaction_permutation'
            order by study, model, metric""").fetchall()
    context.log.info("marts.stats_models: %d rows", rows)
    table = render_table(["study", "model", "metric", "F", "permutation p"], interaction, markdown=True)
    return dg.MaterializeResult(metadata={"rows": rows, "interaction_tests": dg.MetadataValue.md(table)})
