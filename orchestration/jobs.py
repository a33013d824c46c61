"""Jobs: the whole pipeline, from study file to report."""

from __future__ import annotations

import dagster as dg

backfire_pipeline_job = dg.define_asset_job(
    name="backfire_pipeline_job",
    selection=dg.AssetSelection.all(),
    description="Content -> design -> simulation -> scoring -> dbt marts -> report, for the configured study.",
)
