"""Language partitions: the keys, the nightly range run, and partitions written side by side by separate
multiprocess runs on one warehouse without lock errors."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
import yaml

from tests.conftest import REPO_ROOT
from tests.test_helpers.studies import n_utterances

pytestmark = pytest.mark.slow

SIXTEEN = ["ar", "bn", "de", "en", "es", "fr", "hi", "id", "ja", "ko", "pt", "ru", "th", "tr", "vi", "zh"]


@pytest.fixture(scope="module")
def defs():
    from orchestration.dbt.project import ensure_manifest

    ensure_manifest()
    from orchestration.definitions import defs

    return defs


def test_simulation_and_scoring_have_one_partition_per_language(defs) -> None:
    graph = defs.resolve_asset_graph()
    for key in ("raw/utterances", "raw/scores"):
        partitions = graph.get(dg_key(key)).partitions_def
        assert partitions is not None and partitions.get_partition_keys() == SIXTEEN
    assert graph.get(dg_key("raw/runs")).partitions_def is None
    assert graph.get(dg_key("marts/backfire_by_language")).partitions_def is None
    jobs = {job.name: job for job in defs.resolve_all_job_defs()}
    assert {"study_setup_job", "simulate_language_job", "marts_job", "backfire_pipeline_job"} <= set(jobs)
    assert jobs["simulate_language_job"].partitions_def.get_partition_keys() == SIXTEEN


def test_the_nightly_run_covers_every_language_of_its_study(defs) -> None:
    import dagster as dg

    schedule = defs.resolve_schedule_def("nightly_evaluation_schedule")
    context = dg.build_schedule_context(scheduled_execution_time=dt.datetime(2026, 11, 27, 2, tzinfo=dt.UTC))
    request = schedule.evaluate_tick(context).run_requests[0]
    assert request.tags["dagster/asset_partition_range_start"] == "ar"
    assert request.tags["dagster/asset_partition_range_end"] == "zh"
    assert request.tags["evaluation_date"] == "2026-11-27" and request.run_key == "nightly-2026-11-27"


def dg_key(path: str):
    import dagster as dg

    return dg.AssetKey(path.split("/"))


def test_every_step_of_a_language_run_takes_the_duckdb_writer_pool(defs) -> None:
    """Writers and the contract checks that read the warehouse alike: a reader holding the file fails a writer."""
    job = defs.resolve_job_def("simulate_language_job")
    pools = {node.name: node.pool for node in job.graph.node_defs}
    assert set(pools) == {"raw__utterances", "raw__utterances_utterances_contract", "raw__scores",
                          "raw__scores_scores_contract"}
    assert set(pools.values()) == {"duckdb_writer"}


@pytest.mark.integration
def test_language_partitions_run_side_by_side_with_the_multiprocess_executor(tmp_path: Path) -> None:
    """Two language runs in separate processes, each step in a subprocess, on an instance whose pools allow one
    step at a time: the DuckDB writers take turns, and every row is written exactly once."""
    import dagster as dg

    from core.study import parse_study
    from simulation.stages import record_content, record_design
    from warehouse.schema import ensure_raw_schema

    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text(yaml.safe_dump({
        "telemetry": {"enabled": False}, "concurrency": {"pools": {"default_limit": 1}}}), encoding="utf-8")
    with dg.DagsterInstance.from_config(str(home)):  # its SQLite storage, created before two runs race to it
        pass
    data = {"name": "two", "seed": 3, "models": [{"name": "synthetic-test", "backend": "synthetic"}],
            "design": {"languages": ["en", "ja"], "aligned_shares": [0.0, 1.0], "replicates": 1, "n_agents": 4,
                       "n_turns": 2}}
    study = tmp_path / "two.yaml"
    study.write_text(yaml.safe_dump(data), encoding="utf-8")
    spec = parse_study(data, str(study))
    db = tmp_path / "w.duckdb"
    with duckdb.connect(str(db)) as con:  # what the setup job writes: the packs and the design the runs read
        ensure_raw_schema(con)
        record_content(con, spec)
        record_design(con, spec)
    config = tmp_path / "run_config.json"
    # Each step runs in a process of its own, forked from a server that has imported the definitions once
    # (a spawned step pays ~5 s of imports; the pool and the separate processes are what this test is about).
    forkserver = {"start_method": {"forkserver": {"preload_modules": ["orchestration.definitions"]}}}
    config.write_text(json.dumps({"resources": {"study": {"config": {"study_path": str(study)}},
                                                "warehouse": {"config": {"db_path": str(db)}}},
                                  "execution": {"config": forkserver}}), encoding="utf-8")
    env = {**os.environ, "DAGSTER_HOME": str(home), "BACKFIRE_EXECUTOR": "multiprocess",
           "PYTHONPATH": str(REPO_ROOT)}

    runs = [subprocess.Popen([sys.executable, "-m", "tests.test_helpers.partition_runs", str(config), language],
                             cwd=REPO_ROOT, env=env, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            for language in spec.design.languages]
    outcomes = [run.communicate(timeout=600) for run in runs]
    for run, (out, err) in zip(runs, outcomes, strict=True):
        assert run.returncode == 0, out + err[-3000:]
        assert "Conflicting lock" not in out + err and "Could not set lock" not in out + err
    # the writers took turns through the instance's pool (not through luck or the lock wait)
    assert any("blocked by limit for pool duckdb_writer" in err for _, err in outcomes)
    with duckdb.connect(str(db), read_only=True) as con:
        per_language = dict(con.execute("""
            select r.language, count(*) from raw.utterances u join raw.runs r using (run_id) group by 1""").fetchall())
        scored = con.execute("select count(distinct utterance_id) from raw.scores").fetchone()[0]  # type: ignore[index]
    assert per_language == dict.fromkeys(spec.design.languages, n_utterances(spec) // len(spec.design.languages))
    assert scored == sum(per_language.values())
