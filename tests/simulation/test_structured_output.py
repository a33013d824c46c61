"""Structured outputs on the openai backend (``structured_output``) and the parse-error stop, against a real HTTP
server on 127.0.0.1."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator

import duckdb
import pytest

from core.study import parse_study
from simulation.backends.openai_compatible import PROMPT_ONLY_NOTE, TURN_SCHEMA
from simulation.budget import FailureThresholdError
from simulation.design import expand_design
from simulation.stages import record_design, simulate_study
from tests.test_helpers.openai_server import FakeOpenAI, serve_openai
from tests.test_helpers.studies import small_study_dict
from warehouse.schema import ensure_raw_schema

pytest.importorskip("openai")


@pytest.fixture(autouse=True)
def fast_retry_waits(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("simulation.backends.retry.BASE_DELAY_S", 0.0)


@pytest.fixture
def server() -> Iterator[tuple[FakeOpenAI, str]]:
    with serve_openai() as served:
        yield served


def _study(base_url: str, *, probe: bool = False, **model: object) -> dict:
    data = small_study_dict(languages=["en"], replicates=1, aligned_shares=[0.0, 1.0], n_turns=2,
                            probe_turns=[1] if probe else [])
    data["models"] = [{"name": "tiny-chat", "backend": "openai", "base_url": base_url, "max_concurrency": 4,
                       **model}]
    return data


def _run(data: dict) -> tuple[duckdb.DuckDBPyConnection, object]:
    con = duckdb.connect()
    ensure_raw_schema(con)
    study = parse_study(data, "s")
    record_design(con, study)
    return con, simulate_study(con, study, use_cache=False)



@pytest.mark.parametrize("transport", ["lean", "sdk"])
def test_auto_sends_the_schema_on_turns_and_none_on_probes(server, transport: str) -> None:
    fake, url = server
    con, _ = _run(_study(url, probe=True, transport=transport))
    formats = [r.get("response_format") for r in fake.requests]
    with_schema = [f for f in formats if f is not None]
    assert len(with_schema) == 2 * 2 * 10 and len(formats) == 2 * 2 * 10 + 2 * 10  # turns + turn-1 probes
    assert all(f["type"] == "json_schema" and f["json_schema"]["strict"] is True
               and f["json_schema"]["schema"] == TURN_SCHEMA for f in with_schema)
    assert TURN_SCHEMA["required"] == ["talk", "monologue"] and TURN_SCHEMA["additionalProperties"] is False
    assert con.execute("select count(*) from raw.utterances where error like '%structured_output%'").fetchone() == (0,)


def test_none_sends_nothing_and_json_object_sends_json_mode(server) -> None:
    fake, url = server
    _run(_study(url, structured_output="none"))
    assert fake.requests and all("response_format" not in r for r in fake.requests)
    first = fake.completions
    _run(_study(url, structured_output="json_object"))
    assert all(r["response_format"] == {"type": "json_object"} for r in fake.requests[first:])


def test_auto_falls_back_to_the_prompt_when_the_endpoint_rejects_it_and_records_it(
        server, caplog: pytest.LogCaptureFixture) -> None:
    fake, url = server
    fake.reject_response_format = True
    with caplog.at_level(logging.WARNING):
        con, stats = _run(_study(url))
    assert stats.errors == 0 and stats.turns_written == 2 * 2  # the run completed
    statuses = con.execute("select status, count(*) from raw.utterances where channel = 'talk' group by 1").fetchall()
    assert statuses == [("ok", 40)]
    # every stored reply was made without the schema, and says so where a query finds it
    assert con.execute("select count(*) from raw.utterances where channel = 'talk' and error = ?",
                       [PROMPT_ONLY_NOTE]).fetchone() == (40,)
    assert caplog.text.count("falls back to prompt-only JSON") == 1
    rejected = [r for r in fake.requests if "response_format" in r]
    assert 1 <= len(rejected) <= 4  # only the calls in flight before the first rejection came back


def test_explicit_json_schema_is_not_silently_dropped(server) -> None:
    fake, url = server
    fake.reject_response_format = True
    data = _study(url, structured_output="json_schema")
    with pytest.raises(FailureThresholdError, match="max_error_share"):
        _run(data)
    assert all("response_format" in r for r in fake.requests)


def test_the_setting_enters_the_run_id_only_when_not_auto() -> None:
    url = "http://127.0.0.1:1/v1"
    ids = {mode: [r.run_id for r in expand_design(parse_study(_study(url, **extra), "s"), {"en": "h"})]
           for mode, extra in [("unset", {}), ("auto", {"structured_output": "auto"}),
                               ("none", {"structured_output": "none"})]}
    assert ids["unset"] == ids["auto"] and set(ids["none"]).isdisjoint(ids["auto"])


def test_a_model_that_never_writes_json_stops_at_the_parse_error_share(server) -> None:
    fake, url = server
    fake.always_prose = True
    data = _study(url, max_reasks=1)
    data["design"]["n_turns"] = 4
    with pytest.raises(FailureThresholdError) as info:
        _run(data)
    message = str(info.value)
    assert re.search(r"(\d+) of \1 replies were not readable", message) and "max_parse_error_share = 0.5" in message
    assert '"I would rather just talk normally."' in message  # the unreadable reply, quoted
    assert "structured_output: json_schema" in message and "larger" in message
    assert fake.completions < 2 * 4 * 10 * 2  # stopped well before the whole study (2 runs x 4 turns x 10, re-asked)


def test_a_backend_built_directly_sends_no_schema() -> None:
    """The judge scorer builds the backend itself: its replies are judgements, not talk/monologue turns."""
    from simulation.backends.base import GenerationConfig
    from simulation.backends.openai_compatible import OpenAICompatibleBackend

    backend = OpenAICompatibleBackend(base_url="http://127.0.0.1:1/v1")
    assert backend._response_format(GenerationConfig(model="judge")) is None
    schema = OpenAICompatibleBackend(base_url="http://127.0.0.1:1/v1", structured_output="auto")
    assert schema._response_format(GenerationConfig(model="m"))["type"] == "json_schema"
