"""The code location: every asset, check, job and schedule, plus project-wide policy.

Policy: the in-process executor by default (DuckDB has one writer, and each multiprocess step costs ~5 s of
imports); ``BACKFIRE_EXECUTOR=multiprocess`` runs steps in subprocesses, still one writer at a time through
the ``duckdb_writer`` pool. Language partitions are the packs found at load time, so the definitions are
built for a set of languages (``definitions_for``); ``defs`` is the one ``dagster dev`` loads.
"""

from __future__ import annotations

import functools
import os
import warnings
from collections.abc import Sequence
from typing import Any

import dagster as dg
from dagster_dbt import DbtCliResource

from orchestration.assets.content import content_packs
from orchestration.assets.design import study_design
from orchestration.assets.drift import drift_alerts
from orchestration.assets.report import backfire_report
from orchestration.assets.scoring import build_scores_asset
from orchestration.assets.simulation import build_utterances_asset
from orchestration.assets.statistics import stats_models
from orchestration.assets.validation import scorer_validation
from orchestration.bundle_job import export_bundle_job
from orchestration.checks.contracts import MART_CHECKS, build_contract_checks
from orchestration.checks.freshness import FRESHNESS_CHECKS, freshness_sensor
from orchestration.dbt.assets import backfire_dbt_models
from orchestration.dbt.project import PROJECT_DIR, dbt_executable
from orchestration.jobs import JOBS
from orchestration.partitions import language_partitions
from orchestration.resources import StudyResource, WarehouseResource
from orchestration.schedules import build_nightly_schedule
from simulation.content import available_languages

EXECUTOR_ENV = "BACKFIRE_EXECUTOR"
_EXECUTORS = {"in_process": dg.in_process_executor, "multiprocess": dg.multiprocess_executor}


def _executor(name: str) -> dg.ExecutorDefinition:
    if name not in _EXECUTORS:
        raise ValueError(f"{EXECUTOR_ENV}={name!r} is not an executor: use one of {', '.join(_EXECUTORS)}")
    return _EXECUTORS[name]


OWNERS_ENV = "BACKFIRE_OWNERS"
DEFAULT_OWNERS = "team:alignment-backfire"


def _owned(assets: list[dg.AssetsDefinition]) -> list[Any]:
    """Every asset with its owners (``BACKFIRE_OWNERS``, comma-separated emails or ``team:NAME``) and a link
    to the code that defines it, as the UI shows them."""
    owners = [o.strip() for o in os.environ.get(OWNERS_ENV, DEFAULT_OWNERS).split(",") if o.strip()]
    owned = list(dg.map_asset_specs(lambda spec: spec.replace_attributes(owners=owners), assets))
    with warnings.catch_warnings():  # code references are a beta API in Dagster 1.13 (pinned in pyproject)
        warnings.simplefilter("ignore", category=dg.BetaWarning)
        return list(dg.with_source_code_references(owned))


@functools.cache
def _build(languages: tuple[str, ...], executor: str) -> dg.Definitions:
    partitions = language_partitions(languages)
    return dg.Definitions(
        assets=_owned([content_packs, study_design, build_utterances_asset(partitions), build_scores_asset(partitions),
                       backfire_dbt_models, stats_models, backfire_report, drift_alerts, scorer_validation]),
        asset_checks=[*build_contract_checks(partitions), *MART_CHECKS, *FRESHNESS_CHECKS],
        jobs=[*JOBS, export_bundle_job],
        schedules=[build_nightly_schedule(partitions)],
        sensors=[freshness_sensor],
        resources={
            "warehouse": WarehouseResource.configure_at_launch(),
            "study": StudyResource.configure_at_launch(),
            "dbt": DbtCliResource(project_dir=str(PROJECT_DIR), profiles_dir=str(PROJECT_DIR),
                                  dbt_executable=dbt_executable()),
        },
        executor=_executor(executor),
    )


def definitions_for(languages: Sequence[str] | None = None) -> dg.Definitions:
    """The definitions with one partition per available pack (plus ``languages``, e.g. a study's)."""
    keys = tuple(sorted(set(available_languages()) | set(languages or ())))
    return _build(keys, os.environ.get(EXECUTOR_ENV, "in_process"))


defs = definitions_for()
