"""``export_bundle_job``: a study's reproducibility bundle from the Dagster UI (the same ``bundle.export_study``
as ``backfire export``). A job of one op, not an asset, so no pipeline job selects it: it runs only when
launched, with the study and the folder in its run config, and reports the manifest summary as metadata."""

from pathlib import Path

import dagster as dg
from pydantic import Field

from orchestration.resources import DUCKDB_WRITER_POOL, WarehouseResource

EXPORT_BUNDLE_JOB = "export_bundle_job"


class ExportBundleConfig(dg.Config):
    study: str = Field(description="Name of the study in the warehouse (raw.studies.study).")
    out_dir: str = Field(description="Bundle folder to write (new or empty).")
    with_cache: bool = Field(default=False, description="Add the response cache (raw.llm_calls): a replay makes "
                                                        "zero model calls.")
    no_text: bool = Field(default=False, description="Drop talk and monologue text (scores are kept).")


@dg.op(pool=DUCKDB_WRITER_POOL, out=dg.Out(dg.Nothing),
       description="Write the study's bundle: Parquet tables, study, packs, scorer configs, report, manifest.")
def export_bundle(context: dg.OpExecutionContext, config: ExportBundleConfig, warehouse: WarehouseResource) -> None:
    from analysis.report.html import bundle_report_writer
    from bundle import ExportOptions, export_study
    from bundle.importer import manifest_summary

    options = ExportOptions(with_cache=config.with_cache, include_text=not config.no_text)
    with warehouse.reader() as con:
        manifest = export_study(con, config.study, Path(config.out_dir), options, source=str(warehouse.path),
                                report_writer=bundle_report_writer(config.study, str(warehouse.path)))
    summary = manifest_summary(manifest)
    context.log.info(f"bundle of {config.study}: {summary['files']} files, {summary['bytes']:,} bytes")
    context.add_output_metadata({**summary, "out_dir": dg.MetadataValue.path(str(Path(config.out_dir).resolve())),
                                 "manifest": dg.MetadataValue.path(str(Path(config.out_dir, "manifest.json")))})


@dg.job(name=EXPORT_BUNDLE_JOB, description="Export one study as a reproducibility bundle (launch it with the "
                                            "study and out_dir in the run config; never part of a pipeline run).")
def export_bundle_job() -> None:
    export_bundle()
