"""Schedules: a nightly re-evaluation of BACKFIRE_NIGHTLY_STUDY (default studies/nightly.yaml)."""


import os
from pathlib import Path

import dagster as dg

from core.study import load_study
from orchestration.jobs import backfire_pipeline_job
from orchestration.partitions import range_tags

NIGHTLY_CRON_ENV = "BACKFIRE_NIGHTLY_CRON"
NIGHTLY_TZ_ENV = "BACKFIRE_NIGHTLY_TIMEZONE"
NIGHTLY_STUDY_ENV = "BACKFIRE_NIGHTLY_STUDY"
DEFAULT_NIGHTLY_STUDY = str(Path(__file__).resolve().parents[1] / "studies" / "nightly.yaml")


def build_nightly_schedule(partitions: dg.StaticPartitionsDefinition) -> dg.ScheduleDefinition:
    @dg.schedule(job=backfire_pipeline_job, name="nightly_evaluation_schedule",
                 cron_schedule=os.environ.get(NIGHTLY_CRON_ENV, "0 2 * * *"),
                 execution_timezone=os.environ.get(NIGHTLY_TZ_ENV, "UTC"),
                 default_status=dg.DefaultScheduleStatus.STOPPED,
                 description="Re-evaluates BACKFIRE_NIGHTLY_STUDY (default studies/nightly.yaml) every night in one "
                             "run over its language partitions, dated by the scheduled day; marts.backfire_drift "
                             "and the drift_alerts asset compare it with the previous night.")
    def nightly_evaluation_schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
        day = context.scheduled_execution_time.date().isoformat()
        study_path = os.environ.get(NIGHTLY_STUDY_ENV, DEFAULT_NIGHTLY_STUDY)
        languages = load_study(study_path).design.languages  # a broken file fails the tick, visibly, before spending
        return dg.RunRequest(run_key=f"nightly-{day}",
                             tags={"evaluation_date": day, **range_tags(partitions, languages)},
                             run_config={"resources": {"study": {"config": {
                                 "evaluation_date": day, "study_path": study_path}}}})

    return nightly_evaluation_schedule
