"""``structured_output`` on the transformers backend: turn replies decoded under the reply schema (xgrammar), the
probe left free, the fallback of ``auto`` without xgrammar recorded. A tiny random-weight Llama built here (no
download) writes no JSON by itself, so any reply that parses was made so by the grammar."""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from dataclasses import replace
from pathlib import Path

import duckdb
import pytest

from core.errors import MissingExtraError, StudyConfigError
from core.study import parse_study
from simulation.backends.base import AgentContext, GenerationConfig, Message
from simulation.design import expand_design
from simulation.parsing import parse_reply
from tests.test_helpers.studies import small_study_dict

MAX_TOKENS = 40
TURN = AgentContext(run_seed=1, language="en", turn=1, n_turns=2, agent_idx=0, aligned=False, individuated=False,
                    event_pressure="low", target_name="Ana")


def _study(**model: object) -> dict:
    data = small_study_dict(languages=["en"], replicates=1, aligned_shares=[0.0, 1.0], n_turns=1, probe_turns=[1])
    data["models"] = [{"name": "/models/tiny", "backend": "transformers", "device": "cpu", **model}]
    return data


def _backend(path: Path, structured_output: str):
    from core.study import ModelSpec
    from simulation.backends.registry import backend_for_model

    return backend_for_model(ModelSpec(name=str(path), backend="transformers", device="cpu",
                                       structured_output=structured_output))


def _ask_turns_and_probes(backend, n_turns: int = 4, n_probes: int = 2) -> list:
    """One batch: ``n_turns`` turn calls, then ``n_probes`` probe calls, each with its own seed."""
    async def go() -> list:
        configs = [GenerationConfig(model="tiny", temperature=0.9, max_tokens=MAX_TOKENS, seed=seed,
                                    context=replace(TURN, is_probe=seed >= n_turns))
                   for seed in range(n_turns + n_probes)]
        replies = await asyncio.gather(*(backend.generate([Message("user", f"Turn {i}: what do you say?")], c)
                                         for i, c in enumerate(configs)))
        await backend.aclose()
        return replies

    return asyncio.run(go())


def test_json_object_is_rejected_with_the_local_alternatives() -> None:
    from simulation.backends.registry import backend_options

    study = parse_study(_study(structured_output="json_object"), "s.yaml")
    with pytest.raises(StudyConfigError) as info:  # checked before anything is written (load_study_content)
        backend_options(study.models[0], field="models[0]", file="s.yaml")
    message = str(info.value)
    assert "s.yaml: models[0].structured_output: json_object is an endpoint's JSON mode" in message
    assert "use json_schema (the local model is held to the reply schema itself), auto or none" in message


def test_the_setting_enters_the_run_id_only_when_not_auto() -> None:
    ids = {mode: {r.run_id for r in expand_design(parse_study(_study(**extra), "s"), {"en": "h"})}
           for mode, extra in [("unset", {}), ("auto", {"structured_output": "auto"}),
                               ("json_schema", {"structured_output": "json_schema"}),
                               ("none", {"structured_output": "none"})]}
    assert ids["unset"] == ids["auto"]
    assert ids["json_schema"].isdisjoint(ids["auto"]) and ids["none"].isdisjoint(ids["auto"])
    assert ids["none"].isdisjoint(ids["json_schema"])


@pytest.mark.slow
def test_turn_replies_follow_the_schema_and_probes_stay_free(tiny_llama: Path) -> None:
    pytest.importorskip("xgrammar")
    from simulation.backends.transformers_local import BUDGET_CLOSED

    constrained = _ask_turns_and_probes(_backend(tiny_llama, "json_schema"))
    free = _ask_turns_and_probes(_backend(tiny_llama, "none"))
    # without the grammar the random model writes no reply JSON; with it, every turn reply is the reply JSON
    assert [parse_reply(r.text).status for r in free[:4]] == ["parse_error"] * 4
    for reply in constrained[:4]:
        assert set(json.loads(reply.text)) == {"talk", "monologue"}
        assert parse_reply(reply.text).status == "ok" and 0 < reply.tokens_out <= MAX_TOKENS
        # closed by the token budget (the random walk would not stop by itself): cut, so truncated as before
        assert (reply.status, reply.error) in {("truncated", BUDGET_CLOSED), ("ok", None)}
    # probe rows shared the batch but not the grammar: the same free text, draw for draw
    assert [r.text for r in constrained[4:]] == [r.text for r in free[4:]]


@pytest.mark.slow
def test_a_study_on_the_local_model_stores_readable_turns(tiny_llama: Path) -> None:
    pytest.importorskip("xgrammar")
    from simulation.stages import record_design, simulate_study
    from warehouse.schema import ensure_raw_schema

    data = _study(structured_output="json_schema", max_tokens=MAX_TOKENS, max_reasks=1, max_concurrency=40)
    data["models"][0]["name"] = str(tiny_llama)
    con = duckdb.connect()
    ensure_raw_schema(con)
    study = parse_study(data, "s")
    record_design(con, study)
    stats = simulate_study(con, study)
    assert stats.parse_errors == 0 and stats.reasks == 0 and stats.errors == 0
    talks = con.execute("select status, count(*) from raw.utterances where channel = 'talk' group by 1").fetchall()
    assert sum(n for _, n in talks) == 2 * 10 and {s for s, _ in talks} <= {"ok", "truncated"}
    # the stored talk is the field's text, not the JSON around it; the probe is free text
    assert con.execute("select count(*) from raw.utterances where channel in ('talk', 'monologue') "
                       "and text like '%\"talk\":%'").fetchone() == (0,)
    probes = con.execute("select text from raw.utterances where channel = 'probe'").fetchall()
    assert len(probes) == 2 * 10 and not any(text.startswith('{"talk": "') for text, in probes)


@pytest.mark.slow
def test_auto_without_xgrammar_is_prompt_only_and_says_so(tiny_llama: Path, monkeypatch: pytest.MonkeyPatch,
                                                          caplog: pytest.LogCaptureFixture) -> None:
    from simulation.backends.reply_schema import PROMPT_ONLY
    from simulation.backends.transformers_local import PROMPT_ONLY_NOTE

    monkeypatch.setitem(sys.modules, "xgrammar", None)  # `import xgrammar` now fails as if it were not installed
    with pytest.raises(MissingExtraError, match=r"pip install 'alignment-backfire\[hf\]'"):
        _backend(tiny_llama, "json_schema")  # asked for explicitly: never silently dropped
    with caplog.at_level(logging.WARNING):
        backend = _backend(tiny_llama, "auto")
    assert backend.prompt_only and backend.cache_variant() == "" and "xgrammar is not installed" in caplog.text
    replies = _ask_turns_and_probes(backend, n_turns=2, n_probes=1)
    for reply in replies[:2]:
        assert PROMPT_ONLY_NOTE in reply.error and PROMPT_ONLY_NOTE.startswith(PROMPT_ONLY)
        assert parse_reply(reply.text).status == "parse_error"  # the random model, held by the prompt alone
    assert PROMPT_ONLY not in (replies[2].error or "")  # the probe is free text whatever the setting
