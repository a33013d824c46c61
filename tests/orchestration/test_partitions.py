"""Language partitions: the keys, the nightly range run, and partitions written side by side into their own
shards by separate multiprocess runs, gathered into marts equal to the single file's."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pandas as pd
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


def test_language_steps_take_no_pool_and_main_file_steps_take_the_writer_pool(defs) -> None:
    """Sharded layout (the default): a language's steps and checks write and read their own shard, so they take no
    pool and partitions run at once; every step that opens the main file stays in the one-writer pool."""
    language = {node.name: node.pool for node in defs.resolve_job_def("simulate_language_job").graph.node_defs}
    assert set(language) == {"raw__utterances", "raw__utterances_utterances_contract", "raw__scores",
                             "raw__scores_scores_contract"}
    assert set(language.values()) == {None}
    for job in ("study_setup_job", "marts_job"):
        pools = {node.name: node.pool for node in defs.resolve_job_def(job).graph.node_defs
                 if not node.name.startswith("freshness_check")}  # it reads the instance, not the warehouse
        assert pools and set(pools.values()) == {"duckdb_writer"}, (job, pools)


def _marts(db: Path) -> dict[str, pd.DataFrame]:
    """Every mart, rows in a fixed order, without the columns that record when it was built."""
    frames = {}
    with duckdb.connect(str(db), read_only=True) as con:
        tables = [row[0] for row in con.execute("select table_name from information_schema.tables "
                                                "where table_schema = 'marts' order by 1").fetchall()]
        for table in tables:
            columns = [name for name, kind in con.execute(
                "select column_name, data_type from information_schema.columns where table_schema = 'marts' "
                "and table_name = ? order by ordinal_position", [table]).fetchall() if "TIMESTAMP" not in kind]
            quoted = ", ".join(f'"{column}"' for column in columns)
            frame = con.execute(f'select {quoted} from marts."{table}"').df()
            frames[table] = frame.sort_values(list(frame.columns), ignore_index=True, key=lambda c: c.astype(str))
    return frames


@pytest.mark.integration
def test_two_languages_in_concurrent_processes_build_the_marts_of_the_single_file(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two language runs in separate processes, each step in a subprocess, on an instance whose pools allow one
    step at a time: each writes its own shard with no pool wait and no lock, their simulation steps overlap,
    and the marts gathered from the two shards equal those of the same study run in one file."""
    import dagster as dg

    from bundle.layout import ITERATIVE_FIT_TOLERANCE
    from core.study import parse_study
    from orchestration.launch import materialize_study, raise_for_failure, refresh_marts
    from simulation.stages import record_content, record_design
    from warehouse.connection import connect
    from warehouse.schema import ensure_raw_schema
    from warehouse.shards import live_shards, published_shards

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
    db = tmp_path / "sharded.duckdb"
    with connect(db) as con:  # what the setup job writes: the packs and the design the runs read
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
           "PYTHONPATH": str(REPO_ROOT), "BACKFIRE_LAYOUT": "sharded"}

    runs = [subprocess.Popen([sys.executable, "-m", "tests.test_helpers.partition_runs", str(config), language],
                             cwd=REPO_ROOT, env=env, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            for language in spec.design.languages]
    outcomes = [run.communicate(timeout=600) for run in runs]
    spans = []
    for run, (out, err) in zip(runs, outcomes, strict=True):
        assert run.returncode == 0, out + err[-3000:]
        assert "Conflicting lock" not in out + err and "Could not set lock" not in out + err
        assert "blocked by limit for pool" not in err  # no partition step waited for another
        spans.append(json.loads(out.strip().splitlines()[-1])["simulation_span"])
    (first_start, first_end), (second_start, second_end) = spans
    assert first_start < second_end and second_start < first_end  # the two simulations ran at the same time
    assert [p.relative_to(tmp_path).as_posix() for p in live_shards(db)] == [
        "sharded.shards/live/two/en.duckdb", "sharded.shards/live/two/ja.duckdb"]
    assert len(published_shards(db)) == 2
    with duckdb.connect(str(db), read_only=True) as con:  # main holds no partition rows before the gather
        assert con.execute("select count(*) from raw.utterances").fetchone()[0] == 0  # type: ignore[index]
    raise_for_failure(refresh_marts(db=db, study_path=study))

    monkeypatch.setenv("BACKFIRE_LAYOUT", "single")
    single = tmp_path / "single.duckdb"
    raise_for_failure(materialize_study(study, db=single))
    assert not (tmp_path / "single.shards").exists()
    sharded_marts, single_marts = _marts(db), _marts(single)
    assert set(sharded_marts) == set(single_marts) and "backfire_by_language" in single_marts
    for table, expected in single_marts.items():  # iterative model fits agree to their convergence tolerance
        tolerance = ITERATIVE_FIT_TOLERANCE if table == "stats_models" else 1e-9
        pd.testing.assert_frame_equal(sharded_marts[table], expected, check_exact=False, rtol=tolerance, obj=table)
    with duckdb.connect(str(db), read_only=True) as con:
        per_language = dict(con.execute("""
            select r.language, count(*) from raw.utterances u join raw.runs r using (run_id) group by 1""").fetchall())
        scored = con.execute("select count(distinct utterance_id) from raw.scores").fetchone()[0]  # type: ignore[index]
    assert per_language == dict.fromkeys(spec.design.languages, n_utterances(spec) // len(spec.design.languages))
    assert scored == sum(per_language.values())
