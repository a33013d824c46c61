"""Content stage: validate the language packs the study uses and record their versions and hashes."""


import dagster as dg

from orchestration.resources import DUCKDB_WRITER_POOL, StudyResource, WarehouseResource
from simulation.stages import record_content

CONTENT_PACKS = dg.AssetKey(["raw", "content_packs"])


@dg.asset(key=CONTENT_PACKS, group_name="content", pool=DUCKDB_WRITER_POOL,
          kinds={"python", "duckdb"},
          description="One row per (language, content_hash): the packs a study reads, validated.")
def content_packs(context: dg.AssetExecutionContext, warehouse: WarehouseResource,
                  study: StudyResource) -> dg.MaterializeResult:
    spec = study.load()
    with warehouse.writer() as con:
        rows = record_content(con, spec)
    context.log.info("content: %d language packs validated", len(rows))
    return dg.MaterializeResult(metadata={
        "rows": len(rows), "languages": ", ".join(r["language"] for r in rows),
        "packs": dg.MetadataValue.md("\n".join(f"- {r['language']}: pack {r['pack_version']}, lexicon "
                                               f"{r['lexicon_version']}, {r['content_hash']}" for r in rows)),
    })
