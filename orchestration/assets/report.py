"""Analysis stage: the study's backfire table, as a Markdown file and as materialization metadata."""


import dagster as dg

from analysis.tables import backfire_table
from orchestration.resources import StudyResource, WarehouseResource

BACKFIRE_MART = dg.AssetKey(["marts", "backfire_by_language"])


@dg.asset(group_name="analysis", deps=[BACKFIRE_MART], kinds={"python"},
          description="The study's per-language backfire table, written next to the warehouse.")
def backfire_report(context: dg.AssetExecutionContext, warehouse: WarehouseResource,
                    study: StudyResource) -> dg.MaterializeResult:
    spec = study.load()
    with warehouse.reader() as con:
        table = backfire_table(con, spec.name, markdown=True)
    out = warehouse.path.parent / "reports" / f"{spec.name}_backfire.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(f"# Backfire by language: {spec.name}\n\n{table}\n", encoding="utf-8")
    context.log.info("report written to %s", out)
    return dg.MaterializeResult(metadata={"path": dg.MetadataValue.path(str(out)),
                                          "backfire_table": dg.MetadataValue.md(table)})
