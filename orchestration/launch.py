"""Headless launcher: runs the shared Dagster definitions in-process (the CLI's only way to run a pipeline)."""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.errors import BackfireError, InternalError
from core.study import RunOverrides
from orchestration.instance import dagster_home, instance_kind, open_instance, run_tags
from warehouse.connection import logs_dir, resolve_db_path

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
    materializations: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    """Metadata of every materialization, by asset key (``raw/scores``), values unwrapped."""
    internal_errors: list[str] = field(default_factory=list)
    """One line per step that failed on a bug (no error of ours in its cause chain); also in ``failures``.
    The traceback is in ``log_path``."""
    warnings: list[str] = field(default_factory=list)
    """Descriptions of the checks that failed at WARN severity (e.g. a served model other than the requested
    one): reported, never a failure."""


def _user_error_names() -> set[str]:
    names, pending = set(), [BackfireError]
    while pending:
        cls = pending.pop()
        names.add(cls.__name__)
        pending += cls.__subclasses__()
    return names


def _chain(error: Any) -> list[Any]:
    """A step's error and its causes, outermost first (Dagster's step wrapper, then what the step raised)."""
    chain = [error]
    while chain[-1].cause is not None:
        chain.append(chain[-1].cause)
    return chain


def _root_message(error: Any) -> str:
    """Our own error's message when one is in the cause chain (it names file, field and fix), else the deepest."""
    ours = _user_error_names()
    chain = _chain(error)
    chosen = next((e for e in chain if (e.cls_name or "") in ours), chain[-1])
    return chosen.message.strip()


NOT_BUGS = frozenset({"DagsterExecutionInterruptedError", "KeyboardInterrupt"})
"""Step errors that end a run without being a bug (an interrupt)."""


def _internal_error(error: Any, log_path: Path) -> str | None:
    """One line for a step that failed on a bug, i.e. with no error of ours (nor an interrupt) in its cause
    chain; None otherwise. It names the exception the step raised (the first that is not a Dagster wrapper),
    the notes added on its way up (the backend, the turn that stored nothing) and the log with the traceback."""
    chain = _chain(error)
    not_bugs = _user_error_names() | NOT_BUGS
    if any((e.cls_name or "") in not_bugs for e in chain):
        return None
    raised = next((e for e in chain if not (e.cls_name or "").startswith("Dagster")), chain[-1])
    first, *notes = [line.strip() for line in raised.message.strip().splitlines() if line.strip()] or ["?"]
    detail = f"{first} {'; '.join(notes)}" if notes else first
    return f"internal error (a bug, not an endpoint failure): {detail}; traceback in {log_path}"


def _failures(result: Any, log_path: Path) -> tuple[list[str], list[str]]:
    """What failed in a run (step failures and failed checks), and the lines of the failures that are bugs."""
    messages, internal = [], []
    for event in result.all_events:
        if event.is_step_failure and event.step_failure_data and event.step_failure_data.error:
            error = event.step_failure_data.error
            bug = _internal_error(error, log_path)
            messages.append(f"{event.step_key}: {bug or _root_message(error)}")
            if bug is not None:
                internal.append(bug)
        if event.event_type_value == "ASSET_CHECK_EVALUATION":
            data = event.event_specific_data
            if data and not data.passed and not _is_warning(data):
                messages.append(f"check {data.check_name} failed: {data.description or ''}")
    return messages, internal


def _is_warning(evaluation: Any) -> bool:
    import dagster as dg

    return evaluation.severity == dg.AssetCheckSeverity.WARN


def _warnings(result: Any) -> list[str]:
    """The warning lines of the checks of a run that failed at WARN severity (their whole description when it
    has none of the ``warning:`` lines ``ContractResult.summary`` writes)."""
    found = []
    for event in result.all_events:
        data = event.event_specific_data
        if event.event_type_value != "ASSET_CHECK_EVALUATION" or not data or data.passed or not _is_warning(data):
            continue
        description = data.description or data.check_name
        lines = [line.strip().removeprefix("warning: ") for line in description.splitlines()
                 if line.strip().startswith("warning: ")]
        found += lines or [description]
    return found


def _log_step_failures(result: Any, log: Any) -> None:
    """Write every failed step's error with its traceback and causes to the run log (the console logger is
    silenced on the CLI, so this is where a bug's traceback is kept)."""
    for event in result.all_events:
        if event.is_step_failure and event.step_failure_data and event.step_failure_data.error:
            log.write(f"\n--- step {event.step_key} of run {result.run_id} failed ---\n"
                      f"{event.step_failure_data.error.to_string()}\n")


@contextlib.contextmanager
def _simulation_log_to(path: Path) -> Iterator[None]:
    """Also write the simulation's warnings (retries against an endpoint, the run's retry summary, a structured
    output fallback) to the run log, so the log a failure message points to holds its cause."""
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setLevel(logging.WARNING)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logger = logging.getLogger("simulation")
    logger.addHandler(handler)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        handler.close()


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


@dataclass(frozen=True)
class RunOutcome:
    """What the command keeps of one Dagster run: plain values, so a worker process can send it back."""

    run_id: str
    success: bool
    failures: list[str]
    internal_errors: list[str]
    warnings: list[str]
    materializations: dict[str, list[dict[str, Any]]]


def execute_job(defs: Any, instance: Any, job_name: str, config: dict[str, Any], partition_key: str | None,
                log_path: Path) -> Any:
    """One in-process run of a job of the shared definitions, its output and failures appended to ``log_path``."""
    with open(log_path, "a", encoding="utf-8") as log, contextlib.redirect_stdout(log), \
            _simulation_log_to(log_path):
        result = defs.resolve_job_def(job_name).execute_in_process(
            run_config=config, instance=instance, partition_key=partition_key, raise_on_error=False,
            tags=run_tags())
        _log_step_failures(result, log)
    return result


def outcome_of(result: Any, log_path: Path) -> RunOutcome:
    """``log_path`` is the log the failure lines point to (the command's)."""
    materializations: dict[str, list[dict[str, Any]]] = {}
    for event in result.get_asset_materialization_events():
        materialization = event.materialization
        materializations.setdefault(materialization.asset_key.to_user_string(), []).append(
            {key: value.value for key, value in materialization.metadata.items()})
    failures, bugs = _failures(result, log_path) if not result.success else ([], [])
    return RunOutcome(result.run_id, result.success, failures, bugs, _warnings(result), materializations)


class _Launcher:
    """Executes jobs of the shared definitions in-process on one instance, logging Dagster's output to the
    warehouse's log file (``<stem>.logs/last_run.log``) and collecting every failure message."""

    def __init__(self, defs: Any, db_path: Path, study_path: str, overrides: RunOverrides, log_level: str,
                 ephemeral: bool) -> None:
        self.defs, self.db_path, self.study_path, self.overrides = defs, db_path, study_path, overrides
        self.log_level = log_level
        self.instance = open_instance(instance_kind(ephemeral))
        # dagster-dbt echoes every dbt event to stdout; keep it in the warehouse's own log folder instead.
        self.log_path = logs_dir(db_path) / "last_run.log"
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self.log_path.write_text("", encoding="utf-8")
        self.run_ids: list[str] = []
        self.failures: list[str] = []
        self.materializations: dict[str, list[dict[str, Any]]] = {}
        self.internal_errors: list[str] = []
        self.warnings: list[str] = []

    def run_config(self, **changes: Any) -> dict[str, Any]:
        study = {"study_path": self.study_path, **self.overrides.merged(**changes).set_fields()}
        return {"resources": {"study": {"config": study}, "warehouse": {"config": {"db_path": str(self.db_path)}}},
                "loggers": {"console": {"config": {"log_level": self.log_level}}}}

    def execute(self, job_name: str, config: dict[str, Any], partition_key: str | None = None) -> Any:
        result = execute_job(self.defs, self.instance, job_name, config, partition_key, self.log_path)
        self.record(outcome_of(result, self.log_path))
        return result

    def record(self, outcome: RunOutcome) -> None:
        """Add one run's outcome (executed here or in a worker process) to the command's."""
        self.run_ids.append(outcome.run_id)
        for key, rows in outcome.materializations.items():
            self.materializations.setdefault(key, []).extend(rows)
        self.warnings.extend(outcome.warnings)
        self.failures.extend(outcome.failures)
        self.internal_errors.extend(outcome.internal_errors)

    def result(self) -> LaunchResult:
        return LaunchResult(self.run_ids[-1], not self.failures, self.db_path, self.failures, self.log_path,
                            self.run_ids, self.materializations, self.internal_errors, self.warnings)


def _launcher(study_path: str | Path, db: str | Path | None, overrides: RunOverrides, log_level: str,
              ephemeral: bool, languages: list[str]) -> _Launcher:
    from orchestration.dbt.project import ensure_manifest

    ensure_manifest()
    from orchestration.definitions import definitions_for

    return _Launcher(definitions_for(languages), resolve_db_path(db), str(study_path), overrides, log_level,
                     ephemeral)


MAX_DEFAULT_PARALLEL = 4
"""Languages at once by default: enough to keep a 128-call endpoint busy while others start and score."""
PARALLEL_ENV_VAR = "BACKFIRE_PARALLEL"
"""Caps the default languages at once (``--parallel`` still wins): ``1`` plays them in turn in the command's
process, e.g. where other work already fills the cores (the test suite sets it)."""


def default_parallel(study: Any) -> int:
    """Languages played at once: one in the single layout (one writer) or under a budget (the budget is carried
    from language to language), else up to ``MAX_DEFAULT_PARALLEL`` (2, 3 and 4 reach 80%, 80% and 84% of a
    128-call endpoint's bound on two cores, docs/performance.md); a study of synthetic models only is bound by
    the CPU, so no more than the machine's cores; ``BACKFIRE_PARALLEL`` lowers (or raises) the cap."""
    from warehouse.shards import layout

    if layout() == "single" or study.budget.max_cost_usd is not None or study.budget.max_calls is not None:
        return 1
    cap = _parallel_from_env()
    if cap is None:
        cap = MAX_DEFAULT_PARALLEL
        if all(model.backend == "synthetic" for model in study.models):  # bound by the CPU alone
            cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
            cap = min(cap, cores)
    return max(1, min(len(study.design.languages), cap))


def _parallel_from_env() -> int | None:
    """``BACKFIRE_PARALLEL`` as a positive integer, or None where it is unset or blank.

    Raises:
        BackfireError: a value that is not a positive integer (names the variable and the fix).
    """
    raw = os.environ.get(PARALLEL_ENV_VAR, "").strip()
    if not raw:
        return None
    if not raw.isdigit() or int(raw) < 1:
        raise BackfireError(f"{PARALLEL_ENV_VAR}={raw!r} is not a number of languages", field=PARALLEL_ENV_VAR,
                            fix="set it to a positive integer (1 plays languages in turn), or unset it")
    return int(raw)


def _play_in_turn(launch: _Launcher, study: Any) -> None:
    """One language after another in this process, the study's budget carried across them; stops at the first
    failed language (its spending is unreported, so later languages could not be budgeted)."""
    from orchestration.jobs import LANGUAGE_JOB

    cost, calls = 0.0, 0
    for language in study.design.languages:
        budget = _remaining_budget(study, cost, calls)
        if budget is None:
            launch.failures.append(f"{language}: not started, the study's budget is spent; finished languages "
                                   "are saved, raise budget.max_cost_usd / budget.max_calls and rerun to resume")
            break
        result = launch.execute(LANGUAGE_JOB, launch.run_config(**budget), partition_key=language)
        if not result.success:
            break
        spent = _spent(result)
        cost, calls = cost + spent[0], calls + spent[1]


def _play_side_by_side(launch: _Launcher, study: Any, parallel: int, ephemeral: bool) -> None:
    """Every language as its own run in a worker process, up to ``parallel`` at once; a failed language does not
    stop the others. Workers of a persistent instance run on it (and take their endpoint permits from its home);
    ``--ephemeral`` workers each keep an in-memory instance and share permits through a temporary lease table."""
    from orchestration.jobs import LANGUAGE_JOB
    from orchestration.language_workers import run_languages

    persistent = instance_kind(ephemeral) == "persistent"
    with _worker_permits(needed=not persistent) as environ:
        run_languages(study.design.languages, job_name=LANGUAGE_JOB, config_for=lambda _: launch.run_config(),
                      home=dagster_home() if persistent else None, definitions_languages=study.design.languages,
                      log_path=launch.log_path, parallel=parallel, environ=environ,
                      on_outcome=lambda _, outcome: launch.record(outcome))


@contextlib.contextmanager
def _worker_permits(needed: bool) -> Iterator[dict[str, str]]:
    """The environment of the workers: the command's, plus a temporary lease table for their endpoint permits
    when their instances are in memory (unless ``BACKFIRE_PERMITS_URL`` already names one)."""
    from simulation.limits import PERMITS_URL_ENV

    environ = dict(os.environ)
    if not needed or environ.get(PERMITS_URL_ENV, "").strip():
        yield environ
        return
    import shutil
    import tempfile

    folder = Path(tempfile.mkdtemp(prefix="backfire-permits-"))
    try:
        yield {**environ, PERMITS_URL_ENV: f"sqlite:///{folder / 'endpoint_permits.sqlite'}"}
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def materialize_study(study_path: str | Path, *, db: str | Path | None = None,
                      overrides: RunOverrides | None = None, log_level: str = "WARNING",
                      ephemeral: bool = False, parallel: int | None = None) -> LaunchResult:
    """Materialize the whole pipeline for one study, in-process: the setup run, one run per language
    partition, then the marts run once every language succeeded.

    Languages play side by side in worker processes (``parallel``, default ``default_parallel``), each into its
    own shard; with ``parallel`` 1 (the single layout, or a study with a budget) they play in turn here and the
    budget spans them all. Runs go to the project's persistent Dagster instance (they show in ``make dev``'s UI)
    unless ``ephemeral``.
    """
    from orchestration.jobs import MARTS_JOB, SETUP_JOB
    from orchestration.resources import StudyResource, WarehouseResource

    overrides = overrides or RunOverrides()
    study = StudyResource(study_path=str(study_path), **overrides.set_fields()).load()
    parallel = default_parallel(study) if parallel is None else parallel
    if parallel > 1:
        _check_parallel(study)
    launch = _launcher(study_path, db, overrides, log_level, ephemeral, study.design.languages)
    if launch.execute(SETUP_JOB, launch.run_config()).success:
        if parallel > 1:
            _play_side_by_side(launch, study, parallel, ephemeral)
        else:
            _play_in_turn(launch, study)
        if not launch.failures:
            launch.execute(MARTS_JOB, launch.run_config())
        else:
            WarehouseResource(db_path=str(launch.db_path)).gather()  # what finished is queryable now
            launch.failures.append("marts not rebuilt: a language failed (the marts would mix finished and "
                                   "missing languages); fix that language's failure and rerun the same command "
                                   "to resume")
    return launch.result()


def _check_parallel(study: Any) -> None:
    """Languages side by side need their own files and a budget that one process keeps.

    Raises:
        BackfireError: the single layout, or a study with a budget.
    """
    from warehouse.shards import LAYOUT_ENV_VAR, layout

    if layout() == "single":
        raise BackfireError("--parallel above 1 needs the sharded layout: the single file has one writer",
                            field=LAYOUT_ENV_VAR, fix=f"unset {LAYOUT_ENV_VAR} (or set it to sharded), or pass "
                                                      "--parallel 1")
    if study.budget.max_cost_usd is not None or study.budget.max_calls is not None:
        raise BackfireError("--parallel above 1 cannot keep the study's budget across languages (each worker "
                            "would spend it)", field="budget", fix="pass --parallel 1 for a study with a budget")


def rescore(scorers: list[str], *, db: str | Path | None = None, study_path: str | Path | None = None,
            languages: list[str] | None = None, rebuild_marts: bool = True, log_level: str = "WARNING",
            ephemeral: bool = False) -> LaunchResult:
    """Run scorers (``NAME[:MODEL][?options]`` specs) over stored utterances, no transcript played: one
    ``rescore_job`` run per stored language (each gated by the scores contract, in the writer pool), then
    ``refresh_marts_job`` (dbt and the statistics). ``study_path`` only labels the dbt metadata."""
    from orchestration.jobs import REFRESH_MARTS_JOB, RESCORE_JOB

    study_path = _label_study(study_path)
    languages = languages or _stored_languages(db)
    launch = _launcher(study_path, db, RunOverrides(), log_level, ephemeral, languages)
    for language in languages:
        config = {**launch.run_config(), "ops": {"raw__scores": {"config": {"scorers": list(scorers)}}}}
        if not launch.execute(RESCORE_JOB, config, partition_key=language).success:
            break
    if rebuild_marts and not launch.failures:
        launch.execute(REFRESH_MARTS_JOB, launch.run_config())
    return launch.result()


def refresh_marts(*, db: str | Path | None = None, study_path: str | Path | None = None,
                  log_level: str = "WARNING", ephemeral: bool = False) -> LaunchResult:
    """Rebuild only the marts of an existing warehouse (dbt seeds, staging, intermediate, marts, and the
    statistics mart) with one ``refresh_marts_job`` run: after a seed or PDI change, no raw table is written
    and no model is called. ``study_path`` only labels the dbt metadata."""
    from orchestration.jobs import REFRESH_MARTS_JOB

    launch = _launcher(_label_study(study_path), db, RunOverrides(), log_level, ephemeral, _stored_languages(db))
    launch.execute(REFRESH_MARTS_JOB, launch.run_config())
    return launch.result()


def evaluate_scorers(scorers: list[str] | None, *, db: str | Path | None = None, split: str = "test",
                     languages: list[str] | None = None, gold_dir: str | Path | None = None,
                     margin: float | None = None, log_level: str = "WARNING",
                     ephemeral: bool = False) -> LaunchResult:
    """Evaluate scorers on the gold validation set with one ``scorer_validation_job`` run: the evaluation
    writes ``raw.scorer_validation`` and ``raw.scorer_register_errors``, then dbt rebuilds their marts and
    ``marts.scorer_coverage`` (its validation flag)."""
    from orchestration.jobs import SCORER_VALIDATION_JOB

    launch = _launcher(_label_study(None), db, RunOverrides(), log_level, ephemeral, [])
    settings: dict[str, Any] = {"split": split}
    if scorers:
        settings["scorers"] = list(scorers)
    if languages:
        settings["languages"] = list(languages)
    if gold_dir is not None:
        settings["gold_dir"] = str(gold_dir)
    if margin is not None:
        settings["margin"] = float(margin)
    launch.execute(SCORER_VALIDATION_JOB, {**launch.run_config(), "ops": {"scorer_validation": {"config": settings}}})
    return launch.result()


def _label_study(study_path: str | Path | None) -> str:
    from orchestration.resources import DEFAULT_STUDY, STUDY_ENV_VAR

    return str(study_path or os.environ.get(STUDY_ENV_VAR) or DEFAULT_STUDY)


def scorer_stats(result: LaunchResult) -> list[dict[str, Any]]:
    """Per-scorer counts the rescore's ``raw/scores`` materializations reported, summed over languages."""
    totals: dict[tuple[str, str], dict[str, Any]] = {}
    for metadata in result.materializations.get("raw/scores", []):
        for row in metadata.get("scorer_stats") or []:
            total = totals.setdefault((row["scorer"], row["version"]), {**row, "scored": 0, "abstained": 0,
                                                                          "rows": 0, "seconds": 0.0})
            for key in ("scored", "abstained", "rows", "seconds"):
                total[key] += row[key]
    return list(totals.values())


def _stored_languages(db: str | Path | None) -> list[str]:
    from warehouse.connection import connect

    with connect(db, read_only=True) as con:
        return [row[0] for row in con.execute("select distinct language from raw.runs order by 1").fetchall()]


def raise_for_failure(result: LaunchResult) -> None:
    """Raise for a failed launch: ``InternalError`` (one line) when a step failed on a bug, else a
    ``BackfireError`` listing every failure.

    Raises:
        InternalError: a step failed on a bug; the line names the log with the traceback.
        BackfireError: the run failed on user errors, failed checks or a spent budget.
    """
    if result.internal_errors:
        raise InternalError(result.internal_errors[0])
    if not result.success:
        if not result.failures:
            raise BackfireError(f"pipeline run {result.run_id} failed without a failure message; its log is "
                                f"{result.log_path}. Finished stages are kept: rerun the same command to resume")
        detail = "\n  ".join(result.failures)
        raise BackfireError(f"pipeline run {result.run_id} failed (log: {result.log_path}):\n  {detail}\n"
                            f"Finished stages are kept: fix the {len(result.failures)} failure(s) listed here, "
                            "then rerun the same command to resume")
