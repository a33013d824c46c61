"""Design stage: expand the study into runs and agents (seeded, hashed ids)."""


from collections import Counter
from typing import Any

import dagster as dg

from analysis.tables import render_table
from orchestration.assets.content import CONTENT_PACKS
from orchestration.resources import DUCKDB_WRITER_POOL, StudyResource, WarehouseResource
from simulation.stages import record_design

STUDIES = dg.AssetKey(["raw", "studies"])
RUNS = dg.AssetKey(["raw", "runs"])
AGENTS = dg.AssetKey(["raw", "agents"])


@dg.multi_asset(
    specs=[
        dg.AssetSpec(STUDIES, group_name="design", deps=[CONTENT_PACKS], kinds={"python", "duckdb"},
                     description="One row per study: its validated config as JSON, latest wins."),
        dg.AssetSpec(RUNS, group_name="design", deps=[CONTENT_PACKS], kinds={"python", "duckdb"},
                     description="One row per run; run_id is a hash of the run's inputs."),
        dg.AssetSpec(AGENTS, group_name="design", deps=[CONTENT_PACKS], kinds={"python", "duckdb"},
                     description="One row per (run_id, agent_idx): persona, aligned, individuated."),
    ],
    name="study_design",
    pool=DUCKDB_WRITER_POOL,
)
def study_design(context: dg.AssetExecutionContext, warehouse: WarehouseResource, study: StudyResource):
    spec = study.load()
    with warehouse.writer() as con:
        result = record_design(con, spec)
    context.log.info("design %s: %d runs (%d new)", spec.name, len(result.runs), result.runs_inserted)
    common: dict[str, Any] = {"study": spec.name, "synthetic": all(r.synthetic for r in result.runs),
                              "languages": ", ".join(spec.design.languages)}
    cells = Counter((r.language, r.model) for r in result.runs)
    yield dg.MaterializeResult(asset_key=STUDIES, metadata={**common, "rows": 1, "replication_target":
                                                            spec.replication_target or "none"})
    yield dg.MaterializeResult(asset_key=RUNS, metadata={
        **common, "rows": len(result.runs), "runs": len(result.runs), "runs_new": result.runs_inserted,
        "by_language": dg.MetadataValue.md(render_table(
            ["language", "model", "runs"], [(lang, model, n) for (lang, model), n in sorted(cells.items())],
            markdown=True))})
    yield dg.MaterializeResult(asset_key=AGENTS, metadata={**common, "rows": len(result.agents),
                                                           "agents": len(result.agents),
                                                           "agents_new": result.agents_inserted})
