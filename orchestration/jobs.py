"""Jobs: the whole pipeline, from study file to report."""

from __future__ import annotations

import dagster as dg

backfire_pipeline_job = dg.define_asset_job(
    name="backfire_pipeline_job",
    selection=dg.AssetSelection.all(),
    description="Content -> design -> simulation -> scoring -> dbt marts -> report, for the configured study.",
    # With run_retries enabled on the instance (deploy/dagster.yaml), a failed run restarts at its failed
    # step; the simulation resumes where it stopped, so a retry re-pays nothing.
    tags={"dagster/max_retries": "2", "dagster/retry_strategy": "FROM_FAILURE"},
)
