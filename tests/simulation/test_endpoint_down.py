"""An endpoint that is down, refuses the key or lacks the model: the preflight names the URL and the cause before
any call; a failed call's stored error keeps the OS cause; retry warnings are one line per endpoint."""

from __future__ import annotations

import errno
import logging
import socket
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from cli.main import main
from core.errors import StudyConfigError
from core.study import parse_study
from simulation.budget import FailureThresholdError
from simulation.stages import preflight_endpoints, record_design, simulate_study
from tests.test_helpers.openai_server import FakeOpenAI, serve_openai
from tests.test_helpers.studies import small_study_dict
from warehouse.schema import ensure_raw_schema

pytest.importorskip("openai")
KEY = "sk-test-preflight-1234567890"


@pytest.fixture
def refused_url() -> str:
    """A base URL on 127.0.0.1 where nothing listens (a port just freed)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[FakeOpenAI, str]]:
    monkeypatch.setenv("BACKFIRE_TEST_KEY", KEY)
    monkeypatch.setattr("simulation.backends.retry.BASE_DELAY_S", 0.0)
    with serve_openai() as served:
        yield served


def _study(base_url: str, **model: object) -> dict:
    data = small_study_dict(languages=["en"], replicates=1, aligned_shares=[0.0, 1.0], n_turns=2)
    data["models"] = [{"name": "tiny-chat", "backend": "openai", "base_url": base_url,
                       "api_key_env": "BACKFIRE_TEST_KEY", "max_concurrency": 4, **model}]
    return data


def _refused(url: str) -> str:
    return f"connection refused at {url.split('/')[2]} (errno {errno.ECONNREFUSED})"


def test_validate_check_endpoints_names_the_url_and_errno(server, refused_url: str, write_study,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    path = write_study(_study(refused_url))
    assert main(["validate", str(path)]) == 0  # without the flag nothing is contacted
    capsys.readouterr()
    assert main(["validate", str(path), "--check-endpoints"]) == 2
    err = capsys.readouterr().err
    assert f"{refused_url}/models" in err and _refused(refused_url) in err and "models[0].base_url" in err
    fake, url = server
    assert main(["validate", str(write_study(_study(url))), "--check-endpoints"]) == 0
    assert "endpoints answered" in capsys.readouterr().out and fake.model_list_requests == 1


def test_run_stops_before_any_call_on_a_dead_endpoint_or_a_refused_key(
        server, refused_url: str, tmp_path: Path, write_study, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "never.duckdb"
    assert main(["run", str(write_study(_study(refused_url))), "--db", str(db)]) == 2
    err = capsys.readouterr().err
    assert _refused(refused_url) in err and "--no-preflight" in err and not db.exists()
    fake, url = server
    fake.required_key = "sk-another-key"
    assert main(["run", str(write_study(_study(url))), "--db", str(db)]) == 2
    err = capsys.readouterr().err
    assert f"HTTP 401 from {url}/models" in err and "BACKFIRE_TEST_KEY was refused" in err and KEY not in err
    assert fake.completions == 0 and not db.exists()


def test_preflight_names_an_unknown_model_from_the_list_or_from_a_chat_call(server) -> None:
    fake, url = server
    fake.listed_models = ["other-model"]
    study = parse_study(_study(url), "s.yaml")
    with pytest.raises(StudyConfigError, match=r"does not list model 'tiny-chat' \(model unknown; it serves: "
                                               r"other-model\)"):
        preflight_endpoints(study, "s.yaml")
    fake.models_route, fake.unknown_model_404 = False, True  # no /models route: one chat call of one token
    with pytest.raises(StudyConfigError, match=f"HTTP 404 from {url}/chat/completions: model 'tiny-chat' unknown"):
        preflight_endpoints(study, "s.yaml")
    assert fake.completions == 1 and fake.requests[0]["max_tokens"] == 1
    fake.listed_models = ["tiny-chat"]
    preflight_endpoints(study, "s.yaml")  # served: no error
    synthetic = parse_study(small_study_dict(), "s.yaml")
    preflight_endpoints(synthetic, "s.yaml")  # nothing to probe


@pytest.mark.parametrize("transport", ["lean", "sdk"])
def test_a_failed_call_stores_its_cause_and_retries_are_one_warning_line(
        server, refused_url: str, transport: str, caplog: pytest.LogCaptureFixture) -> None:
    con = duckdb.connect()
    ensure_raw_schema(con)
    study = parse_study(_study(refused_url, transport=transport), "s")
    record_design(con, study)
    with caplog.at_level(logging.WARNING), pytest.raises(FailureThresholdError) as stopped:
        simulate_study(con, study)
    assert f"Last error: APIConnectionError: Connection error: {_refused(refused_url)}" in str(stopped.value)
    errors = {row[0] for row in con.execute("select distinct error from raw.utterances where status = 'error'"
                                            ).fetchall()}
    assert errors == {f"APIConnectionError: Connection error: {_refused(refused_url)}"}
    retry_lines = [r.getMessage() for r in caplog.records if r.name == "simulation.backends.retry"]
    assert len(retry_lines) == 1 and "retry against" in retry_lines[0]  # dozens of retries, one line
    summary = [r.getMessage() for r in caplog.records if "retries against" in r.getMessage()]
    assert len(summary) == 1 and f"against openai:{refused_url} (last cause: transient" in summary[0]
    assert _refused(refused_url) in summary[0]


@pytest.mark.slow  # the whole pipeline through Dagster
@pytest.mark.integration
def test_run_without_preflight_stops_on_the_error_share_and_its_log_holds_the_cause(
        refused_url: str, tmp_path: Path, write_study, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("BACKFIRE_TEST_KEY", KEY)
    db = tmp_path / "down.duckdb"
    assert main(["run", str(write_study(_study(refused_url))), "--db", str(db), "--no-preflight"]) == 2
    err = capsys.readouterr().err
    from warehouse.connection import logs_dir

    log_path = logs_dir(db) / "last_run.log"
    assert str(log_path) in err and "max_error_share" in err and _refused(refused_url) in err
    log = log_path.read_text(encoding="utf-8")
    assert "calls failed after every retry" in log and f"Last error: APIConnectionError: Connection error: " \
                                                      f"{_refused(refused_url)}" in log
    assert f"retries against openai:{refused_url} (last cause:" in log
    assert err.count("retr") <= 4  # one collapsed warning and one summary line, not one line per retry
