"""Provenance: what each call asked for and what the endpoint served, against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator

import duckdb
import pytest

from core.errors import StudyConfigError
from core.study import ModelSpec, parse_study
from simulation.backends.registry import backend_fingerprint, requested_model_id
from simulation.stages import record_design, simulate_study
from tests.test_helpers.openai_server import FakeOpenAI, serve_openai
from tests.test_helpers.studies import small_study_dict
from warehouse.schema import ensure_raw_schema

pytest.importorskip("openai")
SECRET = "sk-test-secret-provenance-0987654321"
SNAPSHOT = "tiny-chat-2024-07-18"


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[FakeOpenAI, str]]:
    monkeypatch.setenv("BACKFIRE_TEST_KEY", SECRET)
    with serve_openai() as served:
        yield served


def _run(url: str, **model: object) -> duckdb.DuckDBPyConnection:
    data = small_study_dict(languages=["en"], replicates=1, aligned_shares=[0.0, 1.0], n_turns=2)
    data["models"] = [{"name": "tiny-chat", "backend": "openai", "base_url": url, "api_key_env": "BACKFIRE_TEST_KEY",
                       **model}]
    con = duckdb.connect()
    ensure_raw_schema(con)
    study = parse_study(data, "s")
    record_design(con, study)
    simulate_study(con, study)
    return con


def test_the_pinned_snapshot_is_requested_and_what_was_served_is_stored_per_call(server) -> None:
    fake, url = server
    fake.system_fingerprint = "fp_44709d6fcb"
    con = _run(url, snapshot=SNAPSHOT, temperature=0.2, top_p=0.9, max_tokens=123, seed=3)
    assert {(r["model"], r["top_p"], r["temperature"], r["max_tokens"]) for r in fake.requests} == {
        (SNAPSHOT, 0.9, 0.2, 123)}
    served = con.execute("select channel, served_model, system_fingerprint, count(*) from raw.utterances "
                         "group by all order by all").fetchall()
    assert served == [("monologue", SNAPSHOT, "fp_44709d6fcb", 40), ("talk", SNAPSHOT, "fp_44709d6fcb", 40)]
    assert con.execute("select distinct model, requested_model, temperature, top_p, max_tokens, decoding_seed "
                       "from raw.runs").fetchall() == [("tiny-chat", SNAPSHOT, 0.2, 0.9, 123, 3)]
    assert con.execute("select distinct served_model, system_fingerprint from raw.llm_calls").fetchall() == [
        (SNAPSHOT, "fp_44709d6fcb")]
    every_value = str([con.execute(f"select * from raw.{t}").fetchall() for t in ("runs", "utterances", "llm_calls",
                                                                                   "studies")])
    assert SECRET not in every_value  # the key is never stored with the provenance


def test_an_endpoint_without_a_fingerprint_stores_null_and_an_alias_stores_what_it_resolved_to(server) -> None:
    fake, url = server
    fake.served_model = "tiny-chat-2026-01-01"  # an unpinned alias served by a dated snapshot
    con = _run(url)
    assert fake.requests[0]["model"] == "tiny-chat" and "top_p" not in fake.requests[0]
    assert con.execute("select distinct served_model, system_fingerprint from raw.utterances").fetchall() == [
        ("tiny-chat-2026-01-01", None)]
    assert con.execute("select distinct requested_model, top_p, decoding_seed from raw.runs").fetchall() == [
        ("tiny-chat", None, 0)]


def test_a_cached_reply_keeps_the_model_it_was_first_served_by(server) -> None:
    fake, url = server
    fake.served_model, fake.system_fingerprint = "tiny-chat-v1", "fp_1"
    con = _run(url)
    data = small_study_dict(languages=["en"], replicates=1, aligned_shares=[0.0, 1.0], n_turns=2)
    data["models"] = [{"name": "tiny-chat", "backend": "openai", "base_url": url, "api_key_env": "BACKFIRE_TEST_KEY"}]
    fake.served_model, fake.system_fingerprint = "tiny-chat-v2", "fp_2"
    paid = fake.completions
    con.execute("delete from raw.utterances where turn = 2")
    simulate_study(con, parse_study(data, "s"))
    assert fake.completions == paid  # every lost turn came from the cache
    assert con.execute("select distinct cache_hit, served_model, system_fingerprint from raw.utterances "
                       "where turn = 2").fetchall() == [(True, "tiny-chat-v1", "fp_1")]


def test_synthetic_replies_name_the_synthetic_backend_and_their_planted_profile() -> None:
    con = duckdb.connect()
    ensure_raw_schema(con)
    study = parse_study(small_study_dict(languages=["en", "ja"], replicates=1, n_turns=1), "s")
    record_design(con, study)
    simulate_study(con, study)
    rows = dict(con.execute("select r.language, any_value(u.served_model || ' ' || u.system_fingerprint) "
                            "from raw.utterances u join raw.runs r using (run_id) group by 1").fetchall())
    model = study.models[0]
    assert rows == {lang: f"synthetic {backend_fingerprint(model, lang)}" for lang in ("en", "ja")}
    assert con.execute("select distinct requested_model from raw.runs").fetchall() == [(model.name,)]


def test_the_requested_model_id_is_the_pin_of_each_backend() -> None:
    def model(**entry: object) -> ModelSpec:
        return ModelSpec.model_validate({"name": "m", **entry})

    assert requested_model_id(model(backend="openai")) == "m"
    assert requested_model_id(model(backend="openai", snapshot="m-2024-07-18")) == "m-2024-07-18"
    assert requested_model_id(model(backend="synthetic", snapshot="m-2024-07-18")) == "m"  # offline: the profile
    assert requested_model_id(model(backend="transformers", revision="abc123")) == "m@abc123"
    with pytest.raises(StudyConfigError, match="snapshot") as info:
        requested_model_id(model(backend="transformers", snapshot="m-2024-07-18"))
    assert "revision" in (info.value.fix or "")


def test_a_pin_or_a_top_p_makes_new_runs_and_the_defaults_keep_the_old_ids() -> None:
    from simulation.stages import build_design

    def run_ids(**entry: object) -> set[str]:
        data = small_study_dict(languages=["en"], replicates=1, n_turns=1)
        data["models"] = [{"name": "m", "backend": "openai", "base_url": "http://127.0.0.1:1/v1", **entry}]
        return {r.run_id for r in build_design(parse_study(data, "s"))[0]}

    plain = run_ids()
    assert run_ids(top_p=None) == plain
    assert run_ids(snapshot="m") == plain  # pinning what was already asked for asks for nothing new
    assert run_ids(snapshot="m-2024-07-18").isdisjoint(plain)
    assert run_ids(top_p=0.9).isdisjoint(plain)


def test_an_older_warehouse_gains_the_provenance_columns_and_its_runs_get_their_settings() -> None:
    con = duckdb.connect()
    con.execute("create schema raw")
    con.execute("create table raw.llm_calls (call_key varchar primary key, model varchar not null, endpoint varchar "
                "not null, response_text varchar not null, status varchar not null, tokens_in integer, tokens_out "
                "integer, latency_ms double, created_at timestamptz not null)")
    con.execute("insert into raw.llm_calls values ('k', 'm', 'e', 'hi', 'ok', 1, 2, 3.0, now())")
    ensure_raw_schema(con)
    from warehouse.llm_cache import DuckDBResponseCache

    cached = DuckDBResponseCache(con).get("k")
    assert cached is not None and cached.text == "hi" and cached.served_model is None  # not recorded then
    study = parse_study(small_study_dict(languages=["en"], replicates=1, n_turns=1), "s")
    record_design(con, study)
    con.execute("update raw.runs set requested_model = null, temperature = null, max_tokens = null")  # as before
    record_design(con, study)
    assert con.execute("select distinct requested_model, temperature, max_tokens from raw.runs").fetchall() == [
        (study.models[0].name, 0.7, 400)]

