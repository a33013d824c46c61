"""The openai backend against a real HTTP server on 127.0.0.1 (no mocks of the client library)."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import duckdb
import pytest

from core.errors import StudyConfigError
from core.study import parse_study
from simulation.content import load_language
from simulation.stages import check_endpoints, record_design, simulate_study
from tests.test_helpers.openai_server import FakeOpenAI, serve_openai
from tests.test_helpers.studies import small_study_dict
from warehouse.schema import ensure_raw_schema

pytest.importorskip("openai")
SECRET = "sk-test-secret-do-not-store-1234567890"


@pytest.fixture(autouse=True)
def fast_retry_waits(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("simulation.backends.retry.BASE_DELAY_S", 0.0)


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[FakeOpenAI, str]]:
    monkeypatch.setenv("BACKFIRE_TEST_KEY", SECRET)
    with serve_openai() as served:
        yield served


def _study(base_url: str, **model: object) -> dict:
    data = small_study_dict(languages=["en"], replicates=1, aligned_shares=[0.0, 1.0], n_turns=2)
    data["models"] = [{"name": "tiny-chat", "backend": "openai", "base_url": base_url,
                       "api_key_env": "BACKFIRE_TEST_KEY", "max_concurrency": 4, **model}]
    return data


def _warehouse(study_dict: dict) -> tuple[duckdb.DuckDBPyConnection, object]:
    con = duckdb.connect()
    ensure_raw_schema(con)
    study = parse_study(study_dict, "s")
    record_design(con, study)
    return con, study


def _all_text(con: duckdb.DuckDBPyConnection) -> str:
    chunks = []
    for schema, table in con.execute("select table_schema, table_name from information_schema.tables").fetchall():
        chunks.append(str(con.execute(f'select * from "{schema}"."{table}"').fetchall()))
    return "\n".join(chunks)


@pytest.mark.parametrize("transport", ["lean", "sdk"])
def test_failures_are_retried_and_every_turn_is_stored(server, caplog: pytest.LogCaptureFixture,
                                                       transport: str) -> None:
    fake, url = server
    fake.faults.extend(["429", "429", "500", "garbage", "drop", "prose"])
    con, study = _warehouse(_study(url, transport=transport))
    with caplog.at_level(logging.DEBUG):
        stats = simulate_study(con, study)
    assert stats.calls == 41 and stats.errors == 0 and stats.parse_errors == 0  # 40 turns + 1 re-ask
    assert fake.completions == 41 + 5  # five retried faults
    statuses = dict(con.execute("select status, count(*) from raw.utterances where channel = 'talk' "
                                "group by 1").fetchall())
    assert statuses == {"ok": 40}
    assert con.execute("select sum(reasks) from raw.utterances where channel = 'talk'").fetchone()[0] == 1
    reask = next(r for r in fake.requests if r["messages"][-2]["role"] == "assistant")
    assert reask["messages"][-2]["content"] == "I would rather just talk normally."
    assert reask["messages"][-1]["content"] == load_language("en").pack.output_format
    for name in ("RateLimitError", "InternalServerError", "APIConnectionError"):
        assert name in caplog.text  # the SDK's error types on both transports
    assert all(auth == f"Bearer {SECRET}" for auth in fake.authorizations)
    assert SECRET not in _all_text(con) and SECRET not in caplog.text


def test_an_unreadable_reply_is_asked_again_a_bounded_number_of_times_then_kept(server) -> None:
    fake, url = server
    fake.always_prose = True
    data = _study(url, max_reasks=2)
    data["budget"] = {"max_parse_error_share": None}  # no early stop: every reply is re-asked to the bound
    con, study = _warehouse(data)
    stats = simulate_study(con, study)
    assert stats.parse_errors == 40 and stats.calls == 3 * 40 and fake.completions == 3 * 40
    rows = con.execute("select distinct text, reasks, tokens_out from raw.utterances where channel = 'talk'"
                       ).fetchall()
    assert rows == [("I would rather just talk normally.", 2, 3 * 12)]  # every attempt's tokens are accounted
    assert con.execute("select distinct status from raw.utterances where channel = 'talk'").fetchall() == [
        ("parse_error",)]


def test_both_transports_send_the_same_request(server) -> None:
    fake, url = server
    bodies, headers = [], []
    for transport in ("lean", "sdk"):
        first = fake.completions
        con, study = _warehouse(_study(url, transport=transport, extra_headers={"X-Team": "safety"}, seed=7))
        simulate_study(con, study, use_cache=False)
        bodies.append(sorted(json.dumps(body, sort_keys=True) for body in fake.requests[first:]))
        headers.append(fake.headers[first])
    assert bodies[0] == bodies[1] and all('"seed": ' in body for body in bodies[0])
    assert headers[0]["x-team"] == headers[1]["x-team"] == "safety"
    assert headers[0]["authorization"] == headers[1]["authorization"] == f"Bearer {SECRET}"


def _stored_nothing_after_refusing(data: dict, match: str, field: str) -> None:
    """The study check refuses the entry before the design stage stores the study's config."""
    con = duckdb.connect()
    ensure_raw_schema(con)
    with pytest.raises(StudyConfigError, match=match) as info:
        record_design(con, parse_study(data, "s.yaml"))
    assert info.value.field == field and info.value.file == "study"
    assert con.execute("select count(*) from raw.studies").fetchone() == (0,)


def test_credentials_in_extra_headers_are_refused() -> None:
    data = _study("http://127.0.0.1:1/v1", extra_headers={"api-key": "abc"})
    _stored_nothing_after_refusing(data, "must not carry credentials", "models[0].extra_headers")


def test_lost_turns_replay_from_the_cache_without_calling_again(server) -> None:
    fake, url = server
    con, study = _warehouse(_study(url))
    simulate_study(con, study)
    paid = fake.completions
    con.execute("delete from raw.utterances where turn = 2")
    resumed = simulate_study(con, study)
    assert resumed.calls == 20 and fake.completions == paid
    assert con.execute("select bool_and(cache_hit) from raw.utterances where turn = 2").fetchone()[0] is True
    con.execute("delete from raw.utterances where turn = 2")
    simulate_study(con, study, use_cache=False)
    assert fake.completions == paid + 20


@pytest.mark.parametrize("transport", ["lean", "sdk"])
def test_a_request_the_endpoint_rejects_is_stored_as_an_error_with_its_reason(server, transport: str) -> None:
    fake, url = server
    fake.faults.extend(["400"])
    con, study = _warehouse(_study(url, max_retries=2, transport=transport))
    stats = simulate_study(con, study)
    assert stats.errors == 1 and fake.completions == 40
    error = con.execute("select error from raw.utterances where status = 'error' and channel = 'talk'").fetchone()[0]
    assert error == "BadRequestError: Error code: 400 - bad request"  # the SDK's text on both transports


def test_a_refusal_is_stored_as_refused_and_not_asked_again(server) -> None:
    fake, url = server
    fake.faults.extend(["refuse"])
    con, study = _warehouse(_study(url, max_concurrency=1))
    simulate_study(con, study)
    assert fake.completions == 40
    row = con.execute("select text, reasks from raw.utterances where status = 'refused' and channel = 'talk'"
                      ).fetchall()
    assert row == [("I can't take part in this.", 0)]


def test_a_reply_cut_off_at_max_tokens_is_stored_as_truncated_with_its_text_and_not_asked_again(server) -> None:
    from tests.test_helpers.openai_server import TRUNCATED_MONOLOGUE

    fake, url = server
    fake.faults.extend(["length"])
    con, study = _warehouse(_study(url, max_concurrency=1, max_reasks=2))
    stats = simulate_study(con, study)
    assert fake.completions == 40 and stats.calls == 40 and stats.truncated == 1  # no re-ask for a cut-off reply
    rows = dict(con.execute("select channel, (text, status, reasks, error) from raw.utterances "
                            "where status = 'truncated'").fetchall())
    talk, status, reasks, error = rows["talk"]
    assert talk.startswith("I hear you (") and (status, reasks, error) == ("truncated", 0, "finish_reason=length")
    assert rows["monologue"][:2] == (TRUNCATED_MONOLOGUE, "truncated")  # the partial monologue is kept, not ""


def test_a_re_ask_that_is_cut_off_ends_the_re_asking_and_is_stored_as_truncated(server) -> None:
    fake, url = server
    fake.faults.extend(["prose"])
    fake.reask_fault = "length"
    con, study = _warehouse(_study(url, max_reasks=2))
    stats = simulate_study(con, study)
    assert fake.completions == 41 and stats.truncated == 1 and stats.parse_errors == 0
    assert con.execute("select status, reasks from raw.utterances where channel = 'talk' and reasks > 0"
                       ).fetchall() == [("truncated", 1)]


def test_retry_after_is_read_like_the_sdk_reads_it() -> None:
    import email.utils
    import time
    from types import SimpleNamespace

    from simulation.backends.openai_compatible import _retry_after

    def wait(**headers: str) -> float | None:
        return _retry_after(SimpleNamespace(response=SimpleNamespace(headers=headers)))

    assert wait(**{"retry-after": "2"}) == 2.0 and wait(**{"retry-after-ms": "1500", "retry-after": "9"}) == 1.5
    assert wait(**{"retry-after": "nan"}) is None and wait(**{"retry-after": "-1"}) is None
    assert wait(**{"retry-after": "100000"}) is None  # beyond 300 s: back off instead of sleeping for a day
    later = email.utils.formatdate(time.time() + 30, usegmt=True)
    assert 25 <= wait(**{"retry-after": later}) <= 31
    assert wait() is None


def test_a_key_with_a_line_end_is_rejected_before_any_call(server, monkeypatch: pytest.MonkeyPatch) -> None:
    fake, url = server
    monkeypatch.setenv("BACKFIRE_TEST_KEY", SECRET + "\r")
    with pytest.raises(StudyConfigError, match="control characters"):
        check_endpoints(parse_study(_study(url), "s"))
    assert fake.completions == 0


@pytest.mark.parametrize("transport", ["lean", "sdk"])
def test_a_slow_call_times_out_and_is_retried(server, transport: str) -> None:
    fake, url = server
    fake.slow_s = 1.5
    fake.faults.extend(["slow"])
    con, study = _warehouse(_study(url, timeout_s=0.5, transport=transport))
    stats = simulate_study(con, study)
    assert stats.errors == 0 and fake.completions == 41


def test_a_missing_key_variable_fails_before_any_call(server, monkeypatch: pytest.MonkeyPatch) -> None:
    fake, url = server
    monkeypatch.delenv("BACKFIRE_TEST_KEY")
    study = parse_study(_study(url), "s")
    with pytest.raises(StudyConfigError, match="BACKFIRE_TEST_KEY is not set"):
        check_endpoints(study)
    assert fake.completions == 0


def test_a_key_in_place_of_the_variable_name_is_rejected() -> None:
    data = _study("http://127.0.0.1:1/v1")
    data["models"][0]["api_key_env"] = "sk-live-abc123!"
    _stored_nothing_after_refusing(data, "must name an environment variable", "models[0].api_key_env")


def test_a_call_budget_stops_the_study_cleanly_and_a_rerun_resumes(server) -> None:
    from simulation.budget import BudgetExhaustedError

    fake, url = server
    data = _study(url, max_concurrency=1)
    data["budget"] = {"max_calls": 25}
    con, study = _warehouse(data)
    with pytest.raises(BudgetExhaustedError, match=r"budget\.max_calls"):
        simulate_study(con, study)
    assert fake.completions == 25
    stored = con.execute("select count(*) from raw.utterances").fetchone()[0]
    assert stored % 20 == 0 and stored >= 20  # whole turns only
    data["budget"] = {}
    resumed = simulate_study(con, parse_study(data, "s"))
    assert con.execute("select count(*) from raw.utterances where channel = 'talk'").fetchone()[0] == 40
    assert fake.completions == 40  # the 25 answered calls were stored or cached: none paid twice
    assert resumed.cache_hits == 25 - stored // 2


def test_cost_is_priced_per_model_and_a_cost_budget_stops_the_study(server) -> None:
    from simulation.budget import BudgetExhaustedError

    fake, url = server
    data = _study(url, max_concurrency=2, price_per_1k_input_usd=1.0, price_per_1k_output_usd=2.0)
    data["budget"] = {"max_cost_usd": 0.5}
    con, study = _warehouse(data)
    # in-flight calls finish after the limit is reached, so the amount spent may pass $0.50; the limit is named
    with pytest.raises(BudgetExhaustedError, match=r"budget reached: \$\d+\.\d+ spent \(budget\.max_cost_usd = 0\.5\)"):
        simulate_study(con, study)
    assert 0 < fake.completions < 40


def test_a_failing_endpoint_stops_the_study_at_the_error_threshold(server) -> None:
    from simulation.budget import FailureThresholdError

    fake, url = server
    fake.faults.extend(["400"] * 100)
    con, study = _warehouse(_study(url, max_concurrency=1))
    with pytest.raises(FailureThresholdError, match="20 of 20 calls failed"):
        simulate_study(con, study)
    assert fake.completions == 20


def test_a_turn_that_fails_twice_keeps_both_superseded_versions(server) -> None:
    fake, url = server
    fake.faults.extend(["400"])
    con, study = _warehouse(_study(url, max_retries=0, max_concurrency=1))
    simulate_study(con, study)
    fake.faults.extend(["400"])  # the retried call fails again
    assert simulate_study(con, study).errors == 1
    simulate_study(con, study)
    versions = con.execute("select count(*), count(distinct superseded_at), count(distinct utterance_id) "
                           "from raw.utterances_superseded").fetchone()
    assert versions == (80, 2, 40)  # two retirements of the same 40 rows, both kept


def test_a_rerun_plays_failed_turns_again_and_keeps_what_it_supersedes(server) -> None:
    fake, url = server
    fake.faults.extend(["400"])
    con, study = _warehouse(_study(url, max_retries=0, max_concurrency=1))
    assert simulate_study(con, study, retry_errors=False).errors == 1
    assert simulate_study(con, study, retry_errors=False).calls == 0  # kept as it is when asked to
    failed_turn = con.execute("select turn from raw.utterances where status = 'error'").fetchone()[0]
    assert failed_turn == 1
    paid = fake.completions

    again = simulate_study(con, study)
    assert again.errors == 0 and again.utterances_superseded == 2 * 10 * 2  # turns 1-2 of one run, 2 channels
    # The failed call is asked again; its 9 answered neighbours replay from the cache; turn 2 follows a new
    # history, so its 10 calls are new.
    assert fake.completions == paid + 1 + 10 and again.cache_hits == 9
    assert con.execute("select count(*), count(distinct utterance_id), count(*) filter (status = 'error') "
                       "from raw.utterances").fetchone() == (80, 80, 0)
    superseded = con.execute("select count(*), count(*) filter (status = 'error' and channel = 'talk'), "
                             "bool_and(superseded_at is not null) from raw.utterances_superseded").fetchone()
    assert superseded == (40, 1, True)
    assert simulate_study(con, study).calls == 0  # now complete
