from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
import yaml

from cli.main import main
from core.study import load_study, parse_study
from simulation.content import BUILTIN_PACK_ROOT
from tests.conftest import DEMO_STUDY, REPO_ROOT
from tests.test_helpers.studies import fill_warehouse, n_calls, n_runs, small_study_dict

HEAVY = ("torch", "transformers", "sentence_transformers", "openai", "aiohttp", "great_expectations", "dagster_dbt",
         "dagster", "dbt")
# What --help and the library packages load, in a fresh interpreter: nothing of HEAVY (deterministic, unlike a
# wall-clock limit); the CLI imports its launcher inside each command.
HELP_PROBE = f"""
import contextlib, io, json, sys
from cli.main import main
out = io.StringIO()
with contextlib.redirect_stdout(out):
    try:
        main(["--help"])
    except SystemExit as exit:
        code = exit.code
after_help = sorted(m for m in {HEAVY!r} if m in sys.modules)
import simulation, scoring, data_contracts, analysis, warehouse, simulation.engine, scoring.lexicon_scorer
import scoring.classifier, scoring.embedding, simulation.backends.openai_compatible
import simulation.backends.transformers_local
after_imports = sorted(m for m in {HEAVY!r} if m in sys.modules)
print(json.dumps({{"code": code, "help": out.getvalue(), "after_help": after_help, "after_imports": after_imports}}))
"""


def test_help_imports_nothing_heavy() -> None:
    done = subprocess.run([sys.executable, "-c", HELP_PROBE], capture_output=True, text=True, cwd=REPO_ROOT)
    assert done.returncode == 0, done.stderr
    probe = json.loads(done.stdout)
    assert probe["code"] == 0 and "validate" in probe["help"] and "query" in probe["help"]
    assert probe["after_help"] == [] and probe["after_imports"] == []


def test_validate_reports_the_design(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(DEMO_STUDY)]) == 0
    out = capsys.readouterr().out
    demo = load_study(DEMO_STUDY)
    assert out.startswith("ok:") and f"{n_runs(demo)} runs" in out and f"{n_calls(demo)} model calls" in out


def test_validate_names_every_missing_pack(write_study, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_study(small_study_dict(languages=["en", "xx", "ja", "yy"]))
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert "design.languages" in err and "Fix:" in err
    assert "xx, yy" in err
    assert "Traceback" not in err


def test_validate_reports_every_mistake_at_once_each_with_its_fix(write_study,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    data = small_study_dict(replicates=0, colour="blue")
    data.update(name="My Study!", seed="seven")
    path = write_study(data)
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    lines = [line.strip() for line in err.splitlines() if line.strip().startswith(str(path))]
    assert err.startswith("error: 4 problems") and len(lines) == 4 and all("Fix: " in line for line in lines)
    fields = [line.removeprefix(f"{path}: ").split(":")[0] for line in lines]
    assert fields == ["name", "seed", "design.replicates", "design.colour"]
    assert "a name may contain only lowercase letters a-z, digits, '-' and '_'" in lines[0]
    assert "^[a-z0-9]" not in err and "Traceback" not in err


def test_validate_reports_every_model_and_scorer_problem_at_once(write_study,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    data = small_study_dict()
    data["models"] = [{"name": "a", "backend": "openai", "gguf_file": "m.gguf"},
                      {"name": "b", "backend": "openai", "base_url": "http://127.0.0.1:9/v1", "transprt": "sdk",
                       "structured_output": "xml"}]
    data["scorers"] = [{"name": "embedding", "model": "/m", "batchsize": 8}]
    assert main(["validate", str(write_study(data))]) == 2
    err = capsys.readouterr().err
    assert "4 problems" in err and "models[0].gguf_file" in err and "models[1].transprt" in err
    assert "models[1].structured_output" in err  # every bad option of one entry, not only its first
    assert "scorers[0].batchsize" in err and err.count("Fix: ") == 4


@pytest.mark.parametrize(("entry", "message"), [
    ({"models": [{"name": "gpt", "backend": "openai", "gguf_file": "m.gguf"}]},
     "models[0].gguf_file: not an option of backend 'openai'. Fix: remove it, or use one of base_url, api_key_env, "
     "transport, extra_headers"),
    ({"scorers": [{"name": "langid"}, {"name": "embedding", "model": "/m", "batchsize": 8}]},
     "scorers[1].batchsize: not an option of scorer 'embedding'. Fix: did you mean batch_size?"),
])
def test_validate_checks_backend_and_scorer_options(write_study, capsys: pytest.CaptureFixture[str], entry: dict,
                                                    message: str) -> None:
    path = write_study({**small_study_dict(), **entry})
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert f"{path}: {message}" in err and "Traceback" not in err


WAREHOUSE_DESIGN = {"replicates": 1, "n_turns": 2}


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A finished small study, shared by this module's tests, which only read it (or prove they did not write)."""
    path = tmp_path_factory.mktemp("cli") / "existing.duckdb"
    with duckdb.connect(str(path)) as con:
        fill_warehouse(con, **WAREHOUSE_DESIGN)
    return path


def _runs_per_language() -> tuple[list[str], int]:
    study = parse_study(small_study_dict(**WAREHOUSE_DESIGN), "s")
    return sorted(study.design.languages), n_runs(study) // len(study.design.languages)


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _broken_pack_root(tmp_path: Path) -> Path:
    root = tmp_path / "packs"
    shutil.copytree(BUILTIN_PACK_ROOT / "en", root / "en")
    data = yaml.safe_load((root / "en" / "pack.yaml").read_text(encoding="utf-8"))
    del data["scenario"]["events"][3]["text"]
    (root / "en" / "pack.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return root


@pytest.mark.parametrize(("case", "expected"), [
    ("malformed_yaml", "not valid YAML"),
    ("unknown_language", "no language pack for xx"),
    ("missing_pack_key", "scenario.events.3.text"),
    ("share_out_of_range", "outside [0, 1]"),
    ("zero_replicates", "design.replicates"),
])
def test_bad_input_is_rejected_before_anything_is_written(case: str, expected: str, warehouse: Path, write_study,
                                                          tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    before = _digest(warehouse)
    study: dict | str = small_study_dict()
    if case == "malformed_yaml":
        study = "name: bad\ndesign: {languages: [en\n"
    elif case == "unknown_language":
        study["design"]["languages"] = ["en", "xx"]  # type: ignore[index]
    elif case == "missing_pack_key":
        monkeypatch.setenv("BACKFIRE_PACK_PATH", str(_broken_pack_root(tmp_path)))
        from simulation.content import _load_cached

        _load_cached.cache_clear()
    elif case == "share_out_of_range":
        study["design"]["aligned_shares"] = [0.0, 1.2]  # type: ignore[index]
    elif case == "zero_replicates":
        study["design"]["replicates"] = 0  # type: ignore[index]
    path = write_study(study)
    try:
        code = main(["run", str(path), "--db", str(warehouse)])
    finally:
        from simulation.content import _load_cached

        _load_cached.cache_clear()
    err = capsys.readouterr().err
    assert code == 2
    assert expected in err and "Fix:" in err and "Traceback" not in err
    assert _digest(warehouse) == before


def test_query_formats_and_read_only(warehouse: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sql = "select language, count(*) as n from raw.runs group by 1 order by 1"
    assert main(["query", sql, "--db", str(warehouse)]) == 0
    assert "language" in capsys.readouterr().out
    languages, runs = _runs_per_language()
    assert main(["query", sql, "--db", str(warehouse), "--format", "csv"]) == 0
    assert capsys.readouterr().out.splitlines() == ["language,n", *(f"{language},{runs}" for language in languages)]
    assert main(["query", sql, "--db", str(warehouse), "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out) == [{"language": language, "n": runs} for language in languages]
    before = _digest(warehouse)
    assert main(["query", "delete from raw.runs", "--db", str(warehouse)]) == 2
    assert "read-only" in capsys.readouterr().err
    assert _digest(warehouse) == before


def test_query_on_a_missing_warehouse_says_how_to_make_one(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["query", "select 1", "--db", str(tmp_path / "none.duckdb")]) == 2
    assert "backfire demo" in capsys.readouterr().err
    assert not (tmp_path / "none.duckdb").exists()


def test_tables_lists_raw_tables_with_counts(warehouse: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["tables", "--db", str(warehouse)]) == 0
    out = capsys.readouterr().out
    assert "raw.utterances" in out and "raw.scores" in out and str(warehouse) in out


def test_db_path_comes_from_the_environment(warehouse: Path, monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("BACKFIRE_DB", str(warehouse))
    assert main(["query", "select count(*) as n from raw.runs", "--format", "csv"]) == 0
    languages, runs = _runs_per_language()
    assert capsys.readouterr().out.splitlines() == ["n", str(runs * len(languages))]
    assert os.environ["BACKFIRE_DB"] == str(warehouse)


@pytest.mark.slow
@pytest.mark.integration
def test_run_against_an_openai_compatible_endpoint_from_the_command_line(
        tmp_path: Path, write_study, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("openai")
    from tests.test_helpers.openai_server import serve_openai

    monkeypatch.setenv("BACKFIRE_CLI_KEY", "sk-cli-secret-0987654321")
    data = small_study_dict(languages=["en"], replicates=2, n_turns=2)
    data["models"] = [{"name": "tiny-chat", "backend": "openai", "price_per_1k_input_usd": 0.5,
                       "price_per_1k_output_usd": 1.5}]
    path = write_study(data)
    study = load_study(path)
    runs, agents, calls_per_turn = n_runs(study), study.design.n_agents, n_runs(study) * study.design.n_agents
    db = tmp_path / "real.duckdb"
    arguments = ["run", str(path), "--base-url", None, "--api-key-env", "BACKFIRE_CLI_KEY", "--concurrency", "8",
                 "--db", str(db)]
    with serve_openai() as (fake, url):
        arguments[3] = url
        code = main(arguments)
        captured = capsys.readouterr()
        assert code == 0, captured.err
        assert fake.completions == n_calls(study)
        from warehouse.shards import live_path

        with duckdb.connect(str(live_path(db, study.name, "en"))) as con:  # the language's own file holds its turns
            con.execute("delete from raw.utterances where turn = 2")
        assert main([*arguments, "--no-cache"]) == 0
        # the lost turn was called again, not read from the cache
        assert fake.completions == n_calls(study) + calls_per_turn
        capsys.readouterr()
    assert "SYNTHETIC" not in captured.out and "tiny-chat" in captured.out
    with duckdb.connect(str(db), read_only=True) as con:
        models = con.execute("select distinct model, backend, synthetic from raw.runs").fetchall()
        stored = str(con.execute("select * from raw.studies").fetchall())
        usage = con.execute("select sum(calls), sum(tokens_in), sum(tokens_out), sum(cost_usd) "
                            "from marts.usage_by_run").fetchone()
        by_agent = con.execute("select count(*), sum(calls), sum(cost_usd) from marts.usage_by_agent").fetchone()
        by_tuple = con.execute("select language, model, runs, calls, error_share, cost_usd "
                               "from marts.usage_by_language_model").fetchall()
    assert models == [("tiny-chat", "openai", False)]
    calls, tokens_in, tokens_out, cost = usage
    # the recomputed turn replaced nothing: ids are hashes; the fake answers with 12 completion tokens
    assert calls == n_calls(study) and tokens_out == n_calls(study) * 12
    assert cost == pytest.approx((tokens_in * 0.5 + tokens_out * 1.5) / 1000)
    assert by_agent[0] == runs * agents and by_agent[1] == calls and by_agent[2] == pytest.approx(cost)
    assert len(by_tuple) == 1 and by_tuple[0][:5] == ("en", "tiny-chat", runs, n_calls(study), 0.0)
    assert by_tuple[0][5] == pytest.approx(cost)
    assert "BACKFIRE_CLI_KEY" in stored and "sk-cli-secret" not in stored


def test_estimate_counts_calls_and_prices_tokens(write_study, capsys: pytest.CaptureFixture[str]) -> None:
    from simulation.estimate import estimate_study

    data = small_study_dict(languages=["en", "ja"], replicates=2, n_turns=3, probe_turns=[3])
    data["models"] = [{"name": "priced", "backend": "openai", "base_url": "http://127.0.0.1:9/v1",
                       "price_per_1k_input_usd": 1.0, "price_per_1k_output_usd": 2.0, "max_tokens": 100}]
    study = parse_study(data, "s")
    (estimate,) = estimate_study(study)
    assert estimate.runs == n_runs(study) and estimate.calls == n_calls(study)
    assert estimate.tokens_out == estimate.calls * 100
    assert estimate.cost_usd == pytest.approx(estimate.tokens_in / 1000 + estimate.tokens_out * 2 / 1000)
    path = write_study(data)
    assert main(["estimate", str(path)]) == 0
    out = capsys.readouterr().out
    assert "priced" in out and str(n_calls(study)) in out
    assert main(["estimate", str(path), "--backend", "synthetic"]) == 0  # planted replies: no endpoint is paid
    out = capsys.readouterr().out
    assert "total: " + str(n_calls(study)) + " calls, $0.00" in out and "synthetic backend" in out
    # the endpoint flags of `run`, and its preflight on request: a dead endpoint is named before any estimate
    assert main(["estimate", str(path), "--model", "other", "--base-url", "http://127.0.0.1:9/v1",
                 "--check-endpoints"]) == 2
    err = capsys.readouterr().err
    assert "models[0].base_url" in err and "connection refused at 127.0.0.1:9" in err


def test_estimate_reuses_only_the_successful_turns_of_the_runs_it_would_play(
        tmp_path: Path, write_study, capsys: pytest.CaptureFixture[str]) -> None:
    """Runs of another backend and turns with a failed call are played again, so they are not counted as stored."""
    from simulation.estimate import estimate_study, stored_prefixes

    db = tmp_path / "reuse.duckdb"
    design = {"languages": ["en"], "replicates": 1, "n_turns": 3, "n_agents": 4}
    with duckdb.connect(str(db)) as con:
        fill_warehouse(con, **design)  # the synthetic study, complete
        # the same design stored under another backend's model: never this command's runs
        con.execute("insert into raw.utterances by name select * replace ('other-' || run_id as run_id, "
                    "'other-' || utterance_id as utterance_id) from raw.utterances")
        first = con.execute("select min(run_id) from raw.utterances where run_id not like 'other-%'").fetchone()[0]
        con.execute("update raw.utterances set status = 'error' where run_id = ? and turn = 2 and agent_idx = 0",
                    [first])
    data = small_study_dict(**design)
    study = parse_study(data, "s")
    with duckdb.connect(str(db), read_only=True) as con:
        stored = stored_prefixes(con, study)
        assert stored_prefixes(con, study, retry_errors=False)[first] == 3
    assert stored[first] == 1 and len(stored) == n_runs(study)
    assert all(turns == 3 for run_id, turns in stored.items() if run_id != first)
    agents = study.design.n_agents
    (estimate,) = estimate_study(study, stored)
    assert estimate.stored_agent_turns == (3 * (n_runs(study) - 1) + 1) * agents
    assert estimate.calls == 2 * agents and estimate.cost_usd == 0
    assert main(["estimate", str(write_study(data)), "--db", str(db)]) == 0
    out = capsys.readouterr().out
    assert f"{estimate.stored_agent_turns} agent turns of these very runs" in out
    endpoint = {**data, "models": [{"name": "synthetic-test", "backend": "openai", "base_url": "http://127.0.0.1:9"}]}
    with duckdb.connect(str(db), read_only=True) as con:  # the same model on another backend: other runs
        assert stored_prefixes(con, parse_study(endpoint, "s")) == {}
    from warehouse.shards import writing

    with writing(db, study.name, "en") as shard:  # a language shard main has not gathered yet: its word counts
        shard.execute("update raw.utterances set status = 'ok' where run_id = ?", [first])
    assert main(["estimate", str(write_study(data)), "--db", str(db)]) == 0
    assert f"{3 * n_runs(study) * agents} agent turns of these very runs" in capsys.readouterr().out


def test_check_passes_a_sound_warehouse_and_names_a_corrupted_transcript_table(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "checked.duckdb"
    with duckdb.connect(str(db)) as con:
        fill_warehouse(con, languages=["en"], replicates=1, n_turns=2)
    assert main(["check", "--db", str(db), "--skip-dbt"]) == 0
    out = capsys.readouterr().out
    assert "utterances_contract" in out and "every contract passed" in out
    with duckdb.connect(str(db)) as con:
        con.execute("update raw.utterances set status = 'mystery', turn = 99 where agent_idx = 0")
    assert main(["check", "--db", str(db), "--skip-dbt"]) == 1
    out = capsys.readouterr().out
    assert "FAILED" in out and "small utterances_contract: transcripts/utterances" in out and "status" in out
    assert main(["check", "--db", str(db), "--studies", "nope"]) == 2
    assert "no runs of nope" in capsys.readouterr().err


def test_check_skips_the_dbt_tests_of_a_warehouse_without_marts(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """A run that failed before dbt built the marts: one line says what was skipped and why, not dbt's noise."""
    import cli.check

    def must_not_run(db_path: Path) -> tuple[bool, str]:
        raise AssertionError("dbt test ran on a warehouse without marts")

    monkeypatch.setattr(cli.check, "_dbt_tests", must_not_run)
    db = tmp_path / "failed_run.duckdb"
    with duckdb.connect(str(db)) as con:
        fill_warehouse(con, languages=["en"], replicates=1, n_turns=2)  # raw tables only: dbt never ran
    assert main(["check", "--db", str(db)]) == 0
    out = capsys.readouterr().out
    skipped = [line for line in out.splitlines() if line.startswith("dbt tests skipped")]
    assert len(skipped) == 1 and "marts.run_metrics" in out and "Fix: run the study" in skipped[0]
    assert "failure lines" not in out and "dbt tests skipped, see above" in out
