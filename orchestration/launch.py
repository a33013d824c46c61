"""Headless launcher: runs the shared Dagster definitions in-process (the CLI's only way to run a pipeline)."""

from __future__ import annotations

import contextlib
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.errors import BackfireError
from warehouse.connection import DB_ENV_VAR, resolve_db_path

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class LaunchResult:
    run_id: str
    success: bool
    db_path: Path
    failures: list[str]
    log_path: Path
    run_ids: list[str] = field(default_factory=list)
    """Every Dagster run of the command: setup, one per language, marts (``run_id`` is the last)."""


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


def _spent(result: Any) -> tuple[float, int]:
    """Dollars and endpoint calls the run's simulation steps reported."""
    cost, calls = 0.0, 0
    for event in result.get_asset_materialization_events():
        metadata = event.materialization.metadata
        if "cost_usd" in metadata and "calls" in metadata:
            cost += float(metadata["cost_usd"].value)
            calls += int(metadata["calls"].value)
    return cost, calls


def _remaining_budget(study: Any, cost: float, calls: int) -> dict[str, Any] | None:
    """What is left of the command's budget for the next language, or None when it is spent."""
    left: dict[str, Any] = {}
    if study.budget.max_cost_usd is not None:
        left["max_cost_usd"] = study.budget.max_cost_usd - cost
    if study.budget.max_calls is not None:
        left["max_calls"] = study.budget.max_calls - calls
    return None if any(v <= 0 for v in left.values()) else left


def materialize_study(study_path: str | Path, *, db: str | Path | None = None, languages: list[str] | None = None,
                      replicates: int | None = None, backend: str | None = None,
                      evaluation_date: str | None = None, log_level: str = "WARNING",
                      **endpoint: Any) -> LaunchResult:
    """Materialize the whole pipeline for one study, in-process: the setup run, one run per language
    partition (the study's budget spans them all), then the marts run once every language succeeded."""
    db_path = resolve_db_path(db)
    os.environ[DB_ENV_VAR] = str(db_path)  # dbt's profile reads it in its subprocess
    from orchestration.dbt.project import ensure_manifest

    ensure_manifest()
    from orchestration.definitions import definitions_for
    from orchestration.jobs import LANGUAGE_JOB, MARTS_JOB, SETUP_JOB
    from orchestration.resources import StudyResource

    study_config: dict[str, Any] = {"study_path": str(study_path)}
    for key, value in (("languages", languages), ("replicates", replicates), ("backend", backend),
                       ("evaluation_date", evaluation_date), *endpoint.items()):
        if value is not None:
            study_config[key] = value
    study = StudyResource(**study_config).load()
    defs = definitions_for(study.design.languages)
    instance = _instance()

    def run_config(**overrides: Any) -> dict[str, Any]:
        return {"resources": {"study": {"config": {**study_config, **overrides}},
                              "warehouse": {"config": {"db_path": str(db_path)}}},
                "loggers": {"console": {"config": {"log_level": log_level}}}}

    # dagster-dbt echoes every dbt event to stdout; keep it in a log file beside the warehouse instead.
    log_path = db_path.parent / "logs" / "last_run.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    run_ids: list[str] = []
    failures: list[str] = []

    def execute(job_name: str, config: dict[str, Any], partition_key: str | None = None) -> Any:
        with open(log_path, "a", encoding="utf-8") as log, contextlib.redirect_stdout(log):
            result = defs.resolve_job_def(job_name).execute_in_process(
                run_config=config, instance=instance, partition_key=partition_key, raise_on_error=False)
        run_ids.append(result.run_id)
        if not result.success:
            failures.extend(_failures(result))
        return result

    log_path.write_text("", encoding="utf-8")
    if execute(SETUP_JOB, run_config()).success:
        cost, calls = 0.0, 0
        for language in study.design.languages:
            budget = _remaining_budget(study, cost, calls)
            if budget is None:
                failures.append(f"{language}: not started, the study's budget is spent; finished languages are "
                                "saved, raise budget.max_cost_usd / budget.max_calls and rerun to resume")
                break
            result = execute(LANGUAGE_JOB, run_config(**budget), partition_key=language)
            if not result.success:  # its spending is unreported, so later languages cannot be budgeted: stop
                break
            spent = _spent(result)
            cost, calls = cost + spent[0], calls + spent[1]
        if not failures:
            execute(MARTS_JOB, run_config())
        else:
            failures.append("marts not rebuilt: a language failed (the marts would mix finished and missing "
                            "languages); rerun the same command after fixing the above to resume")
    return LaunchResult(run_ids[-1], not failures, db_path, failures, log_path, run_ids)


def raise_for_failure(result: LaunchResult) -> None:
    if not result.success:
        detail = "\n  ".join(result.failures) or "no failure message was recorded"
        raise BackfireError(f"pipeline run {result.run_id} failed (log: {result.log_path}):\n  {detail}\n"
                            "Finished stages are kept; rerun the same command to resume after fixing the above")
