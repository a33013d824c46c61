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
    for job in ("study_setup_job", "simulate_language_job", "marts_job", "backfire_pipeline_job"):
        assert defs.resolve_job_def(job) is not None


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


@pytest.mark.integration
def test_language_partitions_run_side_by_side_with_the_multiprocess_executor(tmp_path: Path) -> None:
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text(yaml.safe_dump({
        "telemetry": {"enabled": False}, "concurrency": {"pools": {"default_limit": 1}}}), encoding="utf-8")
    study = tmp_path / "three.yaml"
    study.write_text(yaml.safe_dump({
        "name": "three", "seed": 3,
        "design": {"languages": ["en", "ja", "ko"], "aligned_shares": [0.0, 1.0], "replicates": 2, "n_turns": 4},
        "models": [{"name": "synthetic-test", "backend": "synthetic"}]}), encoding="utf-8")
    db = tmp_path / "w.duckdb"
    config = tmp_path / "run_config.json"
    config.write_text(json.dumps({"resources": {"study": {"config": {"study_path": str(study)}},
                                                "warehouse": {"config": {"db_path": str(db)}}}}), encoding="utf-8")
    env = {**os.environ, "DAGSTER_HOME": str(home), "BACKFIRE_EXECUTOR": "multiprocess",
           "PYTHONPATH": str(REPO_ROOT)}

    def launch(*args: str) -> subprocess.Popen[str]:
        return subprocess.Popen([sys.executable, "-m", "tests.test_helpers.partition_runs", args[0], str(config),
                                 *args[1:]], cwd=REPO_ROOT, env=env, text=True, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)

    setup = launch("setup")
    out, err = setup.communicate(timeout=300)
    assert setup.returncode == 0, out + err[-3000:]
    runs = [launch("language", language) for language in ("en", "ja", "ko")]
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
    assert per_language == {lang: 4 * 10 * 4 * 2 for lang in ("en", "ja", "ko")}
    assert scored == sum(per_language.values())
