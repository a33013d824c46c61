"""The code location: every asset, check, job and schedule, plus project-wide policy.

Policy: the in-process executor (DuckDB has one writer, and each multiprocess step costs ~5 s of imports).
"""

from __future__ import annotations

import dagster as dg
from dagster_dbt import DbtCliResource

from orchestration.assets.content import content_packs
from orchestration.assets.design import study_design
from orchestration.assets.drift import drift_alerts
from orchestration.assets.report import backfire_report
from orchestration.assets.scoring import scores
from orchestration.assets.simulation import utterances
from orchestration.assets.statistics import stats_models
from orchestration.checks.contracts import CONTRACT_CHECKS, MART_CHECKS
from orchestration.checks.freshness import FRESHNESS_CHECKS, freshness_sensor
from orchestration.dbt.assets import backfire_dbt_models
from orchestration.dbt.project import PROJECT_DIR, dbt_executable
from orchestration.jobs import backfire_pipeline_job
from orchestration.resources import StudyResource, WarehouseResource
from orchestration.schedules import nightly_evaluation_schedule

defs = dg.Definitions(
    assets=[content_packs, study_design, utterances, scores, backfire_dbt_models, stats_models, backfire_report,
            drift_alerts],
    asset_checks=[*CONTRACT_CHECKS, *MART_CHECKS, *FRESHNESS_CHECKS],
    jobs=[backfire_pipeline_job],
    schedules=[nightly_evaluation_schedule],
    sensors=[freshness_sensor],
    resources={
        "warehouse": WarehouseResource.configure_at_launch(),
        "study": StudyResource.configure_at_launch(),
        "dbt": DbtCliResource(project_dir=str(PROJECT_DIR), profiles_dir=str(PROJECT_DIR),
                              dbt_executable=dbt_executable()),
    },
    executor=dg.in_process_executor,
)
