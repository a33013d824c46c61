"""The CLI's Dagster instance: persistent by default (the folder ``make dev`` serves), ephemeral on request,
and never blocked by the pool slot of a CLI process that was killed."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from core.errors import BackfireError
from orchestration.instance import (
    DEPLOY_CONFIG,
    HOST_TAG,
    PID_TAG,
    dagster_home,
    instance_kind,
    open_instance,
    release_dead_cli_runs,
)

pytestmark = pytest.mark.slow


def test_instance_kind_defaults_to_persistent_and_honours_the_opt_outs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BACKFIRE_INSTANCE", raising=False)
    assert instance_kind() == "persistent"
    assert instance_kind(ephemeral=True) == "ephemeral"
    monkeypatch.setenv("BACKFIRE_INSTANCE", "ephemeral")
    assert instance_kind() == "ephemeral"
    monkeypatch.setenv("BACKFIRE_INSTANCE", "shared")
    with pytest.raises(BackfireError, match="BACKFIRE_INSTANCE"):
        instance_kind()


def test_dagster_home_is_the_make_dev_folder_with_the_deploy_config(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    monkeypatch.chdir(tmp_path)
    home = dagster_home()
    assert home == tmp_path / ".dagster_home"
    assert (home / "dagster.yaml").read_text() == DEPLOY_CONFIG.read_text()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")  # a user's edit is kept
    assert (dagster_home() / "dagster.yaml").read_text() == "telemetry:\n  enabled: false\n"
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "elsewhere"))
    assert dagster_home() == tmp_path / "elsewhere"


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_a_killed_cli_run_no_longer_holds_the_writer_pool(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A CLI run killed mid-step leaves its run STARTED and its duckdb_writer slot claimed; the next launch
    frees both, while a live process's run (or one without our tags, e.g. dagster dev's) is left alone."""
    import dagster as dg

    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "home"))
    instance = open_instance("persistent")

    @dg.op
    def step() -> None:
        return None

    @dg.job
    def job() -> None:
        step()

    def started_run(tags: dict[str, str]) -> str:
        run = instance.create_run_for_job(job_def=job, tags=tags)
        instance.handle_run_event(run.run_id, dg.DagsterEvent(
            event_type_value="PIPELINE_START", job_name=job.name, message="started"))
        instance.event_log_storage.claim_concurrency_slot("duckdb_writer", run.run_id, "step")
        return run.run_id

    instance.event_log_storage.set_concurrency_slots("duckdb_writer", 3)  # all three hold a slot at once
    host = socket.gethostname()
    dead = started_run({HOST_TAG: host, PID_TAG: str(_dead_pid())})
    alive = started_run({HOST_TAG: host, PID_TAG: str(os.getppid())})
    foreign = started_run({})
    assert instance.get_run_by_id(dead).status == dg.DagsterRunStatus.STARTED
    claimed = {slot.run_id for slot in instance.event_log_storage.get_concurrency_info("duckdb_writer").claimed_slots}
    assert claimed == {dead, alive, foreign}

    assert release_dead_cli_runs(instance) == [dead]
    assert instance.get_run_by_id(dead).status == dg.DagsterRunStatus.FAILURE
    claimed = {slot.run_id for slot in instance.event_log_storage.get_concurrency_info("duckdb_writer").claimed_slots}
    assert dead not in claimed and {alive, foreign} <= claimed
    assert release_dead_cli_runs(instance) == []  # idempotent
