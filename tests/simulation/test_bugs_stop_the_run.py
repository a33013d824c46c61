"""A bug in a backend stops the simulation at once; endpoint failures are retried and stored."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field

import duckdb
import pytest

from core.study import parse_study
from simulation.backends.base import Backend, EndpointError, GenerationConfig, Message, Reply, RetryDecision
from simulation.backends.retry import generate_with_retries
from simulation.stages import record_design, simulate_study
from tests.test_helpers.faulty_backend import FaultyBackend, faulty_study_dict, registered_faulty_backend
from warehouse.schema import ensure_raw_schema


@pytest.fixture(autouse=True)
def fast_retry_waits(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("simulation.backends.retry.BASE_DELAY_S", 0.0)


def test_a_type_error_in_a_backend_stops_the_run_and_stores_nothing_for_its_turn() -> None:
    con = duckdb.connect()
    ensure_raw_schema(con)
    study = parse_study(faulty_study_dict(n_turns=4, n_agents=4), "s")
    backend = FaultyBackend(fail_on_call=2 * 4 + 2)  # the second call of turn 3

    with registered_faulty_backend(backend), pytest.raises(TypeError, match="unsupported operand") as raised:
        record_design(con, study)
        simulate_study(con, study)

    assert "in backend 'faulty' (model faulty-chat)" in raised.value.__notes__
    assert any("nothing was stored for the failed turn" in note and "turn 3" in note
               for note in raised.value.__notes__)
    # Turn 3's four calls were in flight together; the other three were cancelled, none came after them.
    assert backend.calls == [(turn, agent) for turn in (1, 2, 3) for agent in range(4)]
    assert backend.cancelled == 3 and backend.finished == 2 * 4
    stored = con.execute("select turn, count(*), count(*) filter (status = 'error') from raw.utterances "
                         "group by 1 order by 1").fetchall()
    assert stored == [(1, 8, 0), (2, 8, 0)]  # the finished turns, flushed; no 'error' row for the failed turn

    fixed = FaultyBackend()
    with registered_faulty_backend(fixed):
        resumed = simulate_study(con, study)
    assert resumed.turns_resumed_from == {stored_run_id(con): 3} and fixed.calls[0] == (3, 0)
    assert con.execute("select count(*), count(*) filter (status = 'error') from raw.utterances").fetchone() == (
        4 * 4 * 2, 0)


def stored_run_id(con: duckdb.DuckDBPyConnection) -> str:
    return con.execute("select run_id from raw.runs").fetchone()[0]  # type: ignore[index]


@dataclass
class ScriptedBackend(Backend):
    """Raises the scripted exceptions in order, then answers."""

    script: list[Exception] = field(default_factory=list)
    calls: int = 0

    async def generate(self, messages: list[Message], config: GenerationConfig) -> Reply:
        self.calls += 1
        if self.script:
            raise self.script.pop(0)
        return Reply(text="ok")

    def should_retry(self, error: Exception) -> RetryDecision:
        return RetryDecision(retry=True, reason="transient")


def _call(backend: Backend, max_retries: int = 3) -> Reply:
    return asyncio.run(generate_with_retries(backend, [Message("user", "hi")], GenerationConfig(model="m"),
                                             max_retries=max_retries))


def test_endpoint_errors_are_retried_then_stored_and_a_bug_is_raised_at_once() -> None:
    flaky = ScriptedBackend(script=[TimeoutError(), ConnectionResetError("reset"), EndpointError("garbage")])
    assert _call(flaky).status == "ok" and flaky.calls == 4

    down = ScriptedBackend(script=[ConnectionRefusedError("refused")] * 5)
    reply = _call(down, max_retries=2)
    assert (reply.status, reply.error, down.calls) == ("error", "ConnectionRefusedError: refused", 3)

    buggy = ScriptedBackend(script=[KeyError("choices")])
    with pytest.raises(KeyError) as raised:
        _call(buggy)
    assert buggy.calls == 1  # not retried: the same bug would be paid for again
    assert raised.value.__notes__ == ["in backend 'backend' (model m)"]


def test_the_openai_backend_classifies_the_sdk_errors_as_endpoint_errors() -> None:
    openai = pytest.importorskip("openai")
    import httpx2

    from simulation.backends.openai_compatible import OpenAICompatibleBackend, reply_from_completion

    backend = OpenAICompatibleBackend(base_url="http://127.0.0.1:9/v1")
    request = httpx2.Request("POST", "http://127.0.0.1:9/v1/chat/completions")
    bad_request = openai.BadRequestError("Error code: 400", response=httpx2.Response(400, request=request), body=None)
    not_json = json.JSONDecodeError("Expecting value", "<html>", 0)  # what the SDK raises on a non-JSON body
    for error in (bad_request, openai.APITimeoutError(request=request), ConnectionError(), not_json,
                  EndpointError("garbage")):
        assert backend.is_endpoint_error(error), error
    assert not backend.should_retry(bad_request).retry  # the endpoint's verdict: stored, not asked again
    for bug in (TypeError("x"), KeyError("x"), AttributeError("x"), ValueError("x")):
        assert not backend.is_endpoint_error(bug)
    with pytest.raises(EndpointError, match="not text"):
        reply_from_completion({"choices": [{"message": {"content": ["parts"]}}]}, latency_ms=1.0)
    with pytest.raises(EndpointError, match="not a number"):
        reply_from_completion({"choices": [], "usage": {"prompt_tokens": "ten"}}, latency_ms=1.0)
