"""Analysis stage: the study's report (HTML with SVG figures) and backfire table, next to the warehouse and
as materialization metadata."""

import dagster as dg

from analysis.tables import backfire_table, served_models_table
from orchestration.metadata import svg_markdown
from orchestration.resources import DUCKDB_WRITER_POOL, StudyResource, WarehouseResource
from warehouse.connection import reports_dir

MARTS = [dg.AssetKey(["marts", name]) for name in (
    "backfire_by_language", "dissociation_by_language", "individuation_effects", "model_consistency",
    "replication_scorecard", "stats_models", "language_pdi", "served_models", "scorer_validation",
    "scorer_register_errors")]


@dg.asset(group_name="analysis", deps=MARTS, pool=DUCKDB_WRITER_POOL,
          kinds={"python", "html"},
          description="The study's report: <warehouse stem>.reports/<study>/report.html beside the warehouse "
                      "(forest plots by PDI, CPI against aligned share, DI, individuation and model panels, "
                      "statistics, the replication scorecard, scorer validation) and "
                      "<warehouse stem>.reports/<study>_backfire.md.")
def backfire_report(context: dg.AssetExecutionContext, warehouse: WarehouseResource,
                    study: StudyResource) -> dg.MaterializeResult:
    from analysis.report.html import build_report

    spec = study.load()
    with warehouse.reader() as con:
        table = backfire_table(con, spec.name, markdown=True)
        served = served_models_table(con, spec.name, markdown=True)
        html_path, sections = build_report(con, reports_dir(warehouse.path) / spec.name, studies=[spec.name],
                                           source=str(warehouse.path))
    out = reports_dir(warehouse.path) / f"{spec.name}_backfire.md"
    out.write_text(f"# Backfire by language: {spec.name}\n\n{table}\n\n## Models served\n\n{served}\n",
                   encoding="utf-8")
    context.log.info("report written to %s", html_path)
    figures = {f"figure_{name}": dg.MetadataValue.md(svg_markdown(name, svg))
               for name, svg in sections[0].figures.items() if svg}
    return dg.MaterializeResult(metadata={"path": dg.MetadataValue.path(str(out)),
                                          "report": dg.MetadataValue.path(str(html_path)),
                                          "backfire_table": dg.MetadataValue.md(table),
                                          "served_models": dg.MetadataValue.md(served), **figures})
