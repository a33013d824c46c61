from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import duckdb
import pytest

from core.study import parse_study
from simulation.backends.base import Backend, GenerationConfig, Message, Reply
from simulation.engine import simulate
from simulation.stages import build_design, record_design, simulate_study
from tests.test_helpers.studies import small_study_dict
from warehouse.raw_io import utc_now
from warehouse.schema import ensure_raw_schema
from warehouse.transcripts import DuckDBTranscriptStore

ROWS = "select utterance_id, run_id, turn, agent_idx, channel, text, status from raw.utterances order by 1"


@pytest.fixture
def con() -> duckdb.DuckDBPyConnection:
    connection = duckdb.connect()
    ensure_raw_schema(connection)
    return connection


def test_synthetic_transcripts_are_deterministic_for_a_seed(con: duckdb.DuckDBPyConnection) -> None:
    study = parse_study(small_study_dict(), "s")
    record_design(con, study)
    stats = simulate_study(con, study)
    assert stats.calls == 8 * 10 * 4 and stats.errors == 0
    first = con.execute(ROWS).fetchall()
    other = duckdb.connect()
    ensure_raw_schema(other)
    record_design(other, study)
    simulate_study(other, study)
    assert other.execute(ROWS).fetchall() == first
    assert len(first) == 8 * 10 * 4 * 2


def test_rerun_makes_no_calls_and_resume_rebuilds_the_same_turns(con: duckdb.DuckDBPyConnection) -> None:
    study = parse_study(small_study_dict(), "s")
    record_design(con, study)
    simulate_study(con, study)
    complete = con.execute(ROWS).fetchall()
    rerun = simulate_study(con, study)
    assert rerun.calls == 0 and rerun.runs_skipped_complete == 8

    run_ids = [r[0] for r in con.execute("select run_id from raw.runs order by run_id").fetchall()]
    con.execute("delete from raw.utterances where run_id = ? and turn >= 3", [run_ids[0]])
    con.execute("delete from raw.utterances where run_id = ?", [run_ids[1]])
    resumed = simulate_study(con, study)
    assert resumed.turns_resumed_from == {run_ids[0]: 3}
    assert resumed.calls == 10 * 2 + 10 * 4
    assert con.execute(ROWS).fetchall() == complete


def test_a_partial_turn_is_not_counted_as_done(con: duckdb.DuckDBPyConnection) -> None:
    study = parse_study(small_study_dict(languages=["en"], replicates=1, aligned_shares=[0.0]), "s")
    record_design(con, study)
    simulate_study(con, study)
    con.execute("delete from raw.utterances where turn = 4 and agent_idx = 9")
    resumed = simulate_study(con, study)
    assert resumed.calls == 10
    assert con.execute("select count(*) from raw.utterances").fetchone()[0] == 10 * 4 * 2


@dataclass
class RecordingBackend(Backend):
    """Echoes JSON, fails for one agent, and records what every agent saw."""

    failing_agent: int = 3
    seen: dict[tuple[int, int], list[Message]] = field(default_factory=dict)

    async def generate(self, messages: list[Message], config: GenerationConfig) -> Reply:
        assert config.context is not None
        ctx = config.context
        self.seen[(ctx.turn, ctx.agent_idx)] = messages
        await asyncio.sleep(0)
        if ctx.agent_idx == self.failing_agent:
            raise ConnectionError("endpoint down")
        return Reply(text=f'{{"talk": "talk {ctx.turn}-{ctx.agent_idx}", "monologue": "mono {ctx.agent_idx}"}}',
                     tokens_in=10, tokens_out=5)


def test_agents_of_a_turn_see_the_same_history_and_failures_are_stored(con: duckdb.DuckDBPyConnection) -> None:
    study = parse_study(small_study_dict(languages=["en"], replicates=1, aligned_shares=[0.5], n_turns=3), "s")
    record_design(con, study)
    runs, agents = build_design(study)
    backend = RecordingBackend()
    stats = asyncio.run(simulate(runs, {runs[0].run_id: agents}, {m.stored_name: m for m in study.models},
                                 {"synthetic:synthetic-test": backend}, DuckDBTranscriptStore(con), clock=utc_now))
    assert stats.errors == 3
    turn3 = [backend.seen[(3, i)][1].content for i in range(10)]
    public = [[line for line in text.splitlines() if "talk 2-" in line or "talk 1-" in line] for text in turn3]
    assert all(lines == public[0] for lines in public)
    assert len(public[0]) == 2 * 9  # two past turns, the failing agent said nothing
    assert any("mono 0" in line for line in turn3[0].splitlines())
    assert not any("mono 0" in line for line in turn3[1].splitlines())
    errors = con.execute("select status, error from raw.utterances where agent_idx = 3 and channel = 'talk'").fetchall()
    assert errors == [("error", "ConnectionError: endpoint down")] * 3
    accounted = con.execute("select sum(tokens_in), count(tokens_in) from raw.utterances").fetchone()
    assert accounted == (10 * 9 * 3, 10 * 3)  # accounting sits on the talk row only


def test_aligned_agents_get_the_alignment_prefix_first(con: duckdb.DuckDBPyConnection) -> None:
    from simulation.content import load_language

    study = parse_study(small_study_dict(languages=["ja"], replicates=1, aligned_shares=[0.5], n_turns=1), "s")
    runs, agents = build_design(study)
    backend = RecordingBackend(failing_agent=-1)
    asyncio.run(simulate(runs, {runs[0].run_id: agents}, {m.stored_name: m for m in study.models},
                         {"synthetic:synthetic-test": backend}, DuckDBTranscriptStore(con), clock=utc_now))
    prefix = load_language("ja").pack.alignment_prefix.strip()
    for agent in agents:
        system = backend.seen[(1, agent.agent_idx)][0].content
        assert system.startswith(prefix) == agent.aligned


def test_probe_turns_add_one_private_interview_per_agent(con: duckdb.DuckDBPyConnection) -> None:
    study = parse_study(small_study_dict(languages=["en"], replicates=1, aligned_shares=[0.5], n_turns=4,
                                         probe_turns=[2, 4]), "s")
    record_design(con, study)
    stats = simulate_study(con, study)
    assert stats.calls == 10 * 4 + 10 * 2
    rows = con.execute("select turn, count(*), count(distinct text), min(length(text)) from raw.utterances "
                       "where channel = 'probe' group by 1 order by 1").fetchall()
    assert [(r[0], r[1]) for r in rows] == [(2, 10), (4, 10)]
    assert all(r[3] > 0 for r in rows)
    assert simulate_study(con, study).calls == 0


def test_probe_question_follows_the_agents_own_reply() -> None:
    from simulation.content import load_language
    from simulation.prompts import probe_messages

    pack = load_language("de").pack
    messages = probe_messages(pack, [Message("system", "s"), Message("user", "u")], '{"talk": "t"}')
    assert [m.role for m in messages] == ["system", "user", "assistant", "user"]
    assert messages[-1].content == pack.probe.question


def test_progress_reports_turns_calls_and_a_final_line(con: duckdb.DuckDBPyConnection) -> None:
    study = parse_study(small_study_dict(languages=["en"], replicates=1, n_turns=3), "s")
    record_design(con, study)
    lines: list[str] = []
    simulate_study(con, study, progress=lines.append)
    assert lines and lines[-1].startswith("simulation [en]: 6/6 turns (100%), 60 calls, 0 failed, 0 from cache")
    assert "ok calls/s" in lines[-1] and "ETA" in lines[-1] and "parse errors" in lines[-1]


def test_the_target_is_a_resident_outside_the_group_in_every_prompt(con: duckdb.DuckDBPyConnection) -> None:
    """``{target}`` is the pack's scenario character: never an agent's name, so no speaking agent is told it is
    silent, and every run names the same person."""
    from simulation.content import load_language

    study = parse_study(small_study_dict(languages=["en"], replicates=2, aligned_shares=[0.5], n_turns=15), "s")
    runs, all_agents = build_design(study)
    pack = load_language("en").pack
    target = pack.scenario.target_name
    personas = {p.id: p.name for p in pack.personas}
    for run in runs:
        agents = [a for a in all_agents if a.run_id == run.run_id]
        backend = RecordingBackend(failing_agent=-1)
        asyncio.run(simulate([run], {run.run_id: agents}, {m.stored_name: m for m in study.models},
                             {"synthetic:synthetic-test": backend}, DuckDBTranscriptStore(con), clock=utc_now))
        names = {personas[a.persona_id] for a in agents}
        assert target not in names and not any(part in name.split() for part in target.split() for name in names)
        prompts = [m.content for messages in backend.seen.values() for m in messages]
        assert all("{target}" not in text for text in prompts)
        assert all(target in messages[0].content for messages in backend.seen.values())  # introduced in the intro
        events = [messages[1].content.splitlines()[-1] for (_, _), messages in sorted(backend.seen.items())]
        silent = [line for line in events if "silent" in line or "said almost nothing" in line]
        assert len(silent) == 2 * run.n_agents and all(target in line for line in silent)
        assert not any(name in line for line in events for name in names)  # no event singles out an agent


@pytest.mark.parametrize("language", ["en", "de", "fr", "es", "pt", "tr", "id", "vi", "ru", "ar", "hi", "bn", "ja",
                                      "zh", "ko", "th"])
def test_every_pack_names_its_target_in_the_intro_and_events_never_an_agent(language: str) -> None:
    from simulation.content import load_language
    from simulation.prompts import system_prompt, turn_messages

    pack = load_language(language).pack
    target = pack.scenario.target_name
    names = [p.name for p in pack.personas[:10]]
    assert target.strip() and target not in names
    system = system_prompt(pack, pack.personas[0], aligned=True, individuated=True)
    assert target in system and "{target}" not in system
    for turn, event in enumerate(pack.scenario.events, start=1):
        text = turn_messages(pack, system, agent_idx=0, turn=turn, names=names, history=[], window=3)[1].content
        assert "{target}" not in text and not any(name in text for name in names)
        assert ("{target}" in event.text) == (target in text)
