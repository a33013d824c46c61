"""Which Dagster instance the CLI's runs go to: by default the project's persistent one (``$DAGSTER_HOME``,
else ``./.dagster_home``, the folder ``make dev`` serves), so CLI runs, their materializations and checks show
in the UI; ``--ephemeral`` (or ``BACKFIRE_INSTANCE=ephemeral``) keeps them in memory.

A persistent instance remembers pool slots: a CLI process killed mid-step (SIGKILL, a closed laptop) would
hold the ``duckdb_writer`` slot forever and every later run would wait on it. Each CLI run is tagged with its
host and process id, and before a launch the slots of tagged runs whose process is gone are freed and those
runs marked failed. Runs of ``dagster dev`` are never touched: a live writer there is waited for, as it should be.
"""

from __future__ import annotations

import logging
import os
import shutil
import socket
from pathlib import Path
from typing import Any, Literal

from core.errors import BackfireError

logger = logging.getLogger(__name__)
INSTANCE_ENV = "BACKFIRE_INSTANCE"
DEFAULT_HOME = ".dagster_home"
DEPLOY_CONFIG = Path(__file__).resolve().parents[1] / "deploy" / "dagster.yaml"
HOST_TAG, PID_TAG = "backfire/host", "backfire/pid"
InstanceKind = Literal["persistent", "ephemeral"]


def instance_kind(ephemeral: bool = False) -> InstanceKind:
    """``--ephemeral`` wins; else ``BACKFIRE_INSTANCE`` (persistent | ephemeral); else persistent."""
    if ephemeral:
        return "ephemeral"
    chosen = os.environ.get(INSTANCE_ENV, "persistent").strip().lower()
    if chosen not in ("persistent", "ephemeral"):
        raise BackfireError(f"{INSTANCE_ENV}={chosen!r} is not an instance kind", field=INSTANCE_ENV,
                            fix="set it to persistent or ephemeral, or unset it")
    return chosen  # type: ignore[return-value]  # checked above


def dagster_home() -> Path:
    """``$DAGSTER_HOME``, else ``./.dagster_home``; created with ``deploy/dagster.yaml`` when it has none."""
    home = Path(os.environ.get("DAGSTER_HOME") or DEFAULT_HOME).expanduser().resolve()
    config = home / "dagster.yaml"
    if not config.is_file():
        home.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(DEPLOY_CONFIG, config)
    return home


def open_instance(kind: InstanceKind) -> Any:
    """The instance runs execute on; the persistent one is cleared of slots held by dead CLI runs first."""
    from dagster import DagsterInstance

    if kind == "ephemeral":
        return DagsterInstance.ephemeral()
    instance = DagsterInstance.from_config(str(dagster_home()))
    release_dead_cli_runs(instance)
    return instance


def run_tags() -> dict[str, str]:
    """Tags that let a later launch tell whether this run's process still lives. A CLI run is not retried by
    a daemon that may serve the same instance (``dagster dev``): the command already reported the failure and
    its user reruns it."""
    return {HOST_TAG: socket.gethostname(), PID_TAG: str(os.getpid()), "dagster/max_retries": "0"}


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def release_dead_cli_runs(instance: Any) -> list[str]:
    """Mark this host's unfinished CLI runs whose process is gone as failed and free their pool slots."""
    from dagster import DagsterRunStatus, RunsFilter

    unfinished = instance.get_runs(RunsFilter(statuses=[DagsterRunStatus.STARTED, DagsterRunStatus.STARTING],
                                              tags={HOST_TAG: socket.gethostname()}))
    released = []
    for run in unfinished:
        pid = run.tags.get(PID_TAG, "")
        if not pid.isdigit() or (_alive(int(pid)) and int(pid) != os.getpid()):
            continue
        instance.report_run_failed(run, "its CLI process is gone (killed?); backfire freed its pool slots")
        instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
        released.append(run.run_id)
    if released:
        logger.warning("freed the pool slots of %d CLI run(s) whose process had died: %s", len(released),
                       ", ".join(released))
    return released
