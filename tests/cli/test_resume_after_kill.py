"""A run killed with SIGKILL in the middle resumes at its first missing turn, without duplicates and without
paying again for calls whose answers were already stored."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import psutil
import pytest
import yaml

from core.study import parse_study
from tests.conftest import REPO_ROOT
from tests.test_helpers.openai_server import serve_openai
from tests.test_helpers.studies import CHANNELS, n_calls, n_utterances, small_study_dict
from warehouse.shards import live_shards

pytestmark = [pytest.mark.slow, pytest.mark.integration]


def test_sigkill_mid_study_then_resume(tmp_path: Path) -> None:
    pytest.importorskip("openai")
    study = small_study_dict(languages=["en", "ja"], replicates=2, aligned_shares=[0.0, 1.0], n_turns=4)
    path = tmp_path / "study.yaml"
    path.write_text(yaml.safe_dump(study), encoding="utf-8")
    db = tmp_path / "w.duckdb"
    parsed = parse_study(study, str(path))
    expected_calls = n_calls(parsed)
    concurrency = 8
    env = {**os.environ, "BACKFIRE_KILL_KEY": "sk-kill-test", "BACKFIRE_DB": str(db)}
    with serve_openai() as (fake, url):
        fake.delay_s = 0.05
        command = [sys.executable, "-m", "cli.main", "run", str(path), "--model", "tiny-chat", "--base-url", url,
                   "--api-key-env", "BACKFIRE_KILL_KEY", "--concurrency", str(concurrency), "--parallel", "2"]
        process = subprocess.Popen(command, cwd=REPO_ROOT, env=env, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.PIPE)
        deadline = time.monotonic() + 120
        while fake.completions < expected_calls // 2 and time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.05)
        helpers = psutil.Process(process.pid).children(recursive=True)  # forkserver, workers, progress manager
        process.kill()  # SIGKILL: no cleanup, no flush
        process.wait(timeout=30)
        assert fake.completions < expected_calls, "the run finished before it could be killed"
        time.sleep(1.0)  # the language workers die with the command: nothing plays (or pays) on after it
        settled = fake.completions
        time.sleep(1.5)
        assert fake.completions == settled, "a language worker outlived the killed command"
        _gone, left = psutil.wait_procs(helpers, timeout=10)
        assert not left, f"processes outlived the killed command: {[p.cmdline()[:4] for p in left]}"

        shards = live_shards(db)
        assert len(shards) == 2  # both languages had started, side by side
        stored_before = []
        for shard in shards:  # DuckDB replays its WAL; nothing half-written survives
            with duckdb.connect(str(shard)) as con:
                stored_before.append(con.execute("select count(*) from raw.utterances").fetchone()[0])
        journals = [Path(f"{shard}.llm_calls.journal") for shard in shards]
        journaled = sum(len(j.read_text(encoding="utf-8").splitlines()) for j in journals if j.exists())

        done = subprocess.run(command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr[-3000:]

    with duckdb.connect(str(db), read_only=True) as con:
        total, distinct = con.execute("select count(*), count(distinct (run_id, turn, agent_idx, channel)) "
                                      "from raw.utterances").fetchone()
        cached = con.execute("select count(*) from raw.llm_calls").fetchone()[0]
    assert total == distinct == n_utterances(parsed)
    assert all(stored % (study["design"]["n_agents"] * len(CHANNELS)) == 0 for stored in stored_before)  # whole turns
    assert cached == expected_calls and all(not j.exists() or j.stat().st_size == 0 for j in journals)
    # Never paid twice: every answer received before the kill (stored in a turn, in DuckDB's cache, or only in
    # the journal: {journaled} of them here) is replayed; only the calls in flight at the kill, which had no
    # answer yet, are asked again: at most the concurrency, which the two language workers share (permits).
    requests = [json.dumps(body, sort_keys=True) for body in fake.requests]
    asked_twice = len(requests) - len(set(requests))
    assert asked_twice <= concurrency, f"{asked_twice} calls asked twice ({journaled} were journaled at the kill)"
    assert len(set(requests)) == expected_calls
