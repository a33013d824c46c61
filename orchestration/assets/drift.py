"""After each evaluation: drift alerts from ``marts.backfire_drift`` (logged, posted to the webhook if set)."""

import dagster as dg

from analysis.tables import render_table
from orchestration.resources import DUCKDB_WRITER_POOL, StudyResource, WarehouseResource

DRIFT_MART = dg.AssetKey(["marts", "backfire_drift"])


@dg.asset(group_name="analysis", deps=[DRIFT_MART], pool=DUCKDB_WRITER_POOL,
          kinds={"python"},
          description="Cells of the latest dated evaluation whose direction changed or whose g left the previous "
                      "CI: logged at WARNING and posted as JSON to BACKFIRE_ALERT_WEBHOOK when it is set.")
def drift_alerts(context: dg.AssetExecutionContext, warehouse: WarehouseResource,
                 study: StudyResource) -> dg.MaterializeResult:
    from analysis.drift import report_drift

    spec = study.load()
    date = spec.evaluation_date.isoformat() if spec.evaluation_date else None
    with warehouse.reader() as con:
        alerts = report_drift(con, study=spec.name, evaluation_date=date) if date else []
    for alert in alerts:
        context.log.warning(f"drift alert: {alert.describe()}")
    table = render_table(["language", "model", "previous", "now", "g", "why"],
                         [(a.language, a.model, a.previous_direction, a.direction, a.hedges_g, ", ".join(a.reasons))
                          for a in alerts], markdown=True)
    return dg.MaterializeResult(metadata={"evaluation_date": date or "undated (no drift to check)",
                                          "alerts": len(alerts), "alert_table": dg.MetadataValue.md(table)})
