"""Headless launcher: runs the shared Dagster definitions in-process (the CLI's only way to run a pipeline)."""

from __future__ import annotations

import contextlib
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from simulation.errors import BackfireError
from warehouse.connection import DB_ENV_VAR, resolve_db_path

logger = logging.getLogger(__name__)
PIPELINE_JOB = "backfire_pipeline_job"


@dataclass(frozen=True)
class LaunchResult:
    run_id: str
    success: bool
    db_path: Path
    failures: list[str]
    log_path: Path


def _instance() -> Any:
    """The persistent instance when DAGSTER_HOME is set (runs show in the UI), else an ephemeral one."""
    from dagster import DagsterInstance

    if os.environ.get("DAGSTER_HOME"):
        return DagsterInstance.get()
    return DagsterInstance.ephemeral()


def _user_error_names() -> set[str]:
    names, pending = set(), [BackfireError]
    while pending:
        cls = pending.pop()
        names.add(cls.__name__)
        pending += cls.__subclasses__()
    return names


def _root_message(error: Any) -> str:
    """Our own error's message when one is in the cause chain (it names file, field and fix), else the deepest."""
    ours = _user_error_names()
    chain = [error]
    while chain[-1].cause is not None:
        chain.append(chain[-1].cause)
    chosen = next((e for e in chain if (e.cls_name or "") in ours), chain[-1])
    return chosen.message.strip()


def _failures(result: Any) -> list[str]:
    messages = []
    for event in result.all_events:
        if event.is_step_failure and event.step_failure_data and event.step_failure_data.error:
            messages.append(f"{event.step_key}: {_root_message(event.step_failure_data.error)}")
        if event.event_type_value == "ASSET_CHECK_EVALUATION":
            data = event.event_specific_data
            if data and not data.passed:
                messages.append(f"check {data.check_name} failed: {data.description or ''}")
    return messages


def materialize_study(study_path: str | Path, *, db: str | Path | None = None, languages: list[str] | None = None,
                      replicates: int | None = None, backend: str | None = None,
                      evaluation_date: str | None = None, log_level: str = "WARNING",
                      **endpoint: Any) -> LaunchResult:
    """Materialize the whole pipeline for one study, in-process, with the study and warehouse as run config."""
    db_path = resolve_db_path(db)
    os.environ[DB_ENV_VAR] = str(db_path)  # dbt's profile reads it in its subprocess
    from orchestration.dbt.project import ensure_manifest

    ensure_manifest()
    from orchestration.definitions import defs

    study_config: dict[str, Any] = {"study_path": str(study_path)}
    for key, value in (("languages", languages), ("replicates", replicates), ("backend", backend),
                       ("evaluation_date", evaluation_date), *endpoint.items()):
        if value is not None:
            study_config[key] = value
    run_config = {"resources": {"study": {"config": study_config},
                                "warehouse": {"config": {"db_path": str(db_path)}}},
                  "loggers": {"console": {"config": {"log_level": log_level}}}}
    job = defs.resolve_job_def(PIPELINE_JOB)
    # dagster-dbt echoes every dbt event to stdout; keep it in a log file beside the warehouse instead.
    log_path = db_path.parent / "logs" / "last_run.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "w", encoding="utf-8") as log, contextlib.redirect_stdout(log):
        result = job.execute_in_process(run_config=run_config, instance=_instance(), raise_on_error=False)
    return LaunchResult(result.run_id, result.success, db_path, [] if result.success else _failures(result),
                        log_path)


def raise_for_failure(result: LaunchResult) -> None:
    if not result.success:
        detail = "\n  ".join(result.failures) or "no failure message was recorded"
        raise BackfireError(f"pipeline run {result.run_id} failed (log: {result.log_path}):\n  {detail}\n"
                            "Finished stages are kept; rerun the same command to resume after fixing the above")
