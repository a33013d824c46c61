"""The optional ``judge`` scorer against a real HTTP server on 127.0.0.1: native instructions, JSON
scores, abstention on unreadable answers, and the response cache (a rerun with a new version pays nothing)."""

from __future__ import annotations

import json

import duckdb
import pytest

from core.errors import BackfireError
from scoring import build_scorer, score_pending
from scoring.judge import judge_messages, parse_judgement
from scoring.spec import parse_scorer
from tests.test_helpers.openai_server import serve_openai
from tests.test_helpers.studies import fill_warehouse

pytest.importorskip("aiohttp")
CATEGORIES = ["coercion_compliance", "exclusion", "disclosure", "atrocity_endorsement", "refusal", "care",
              "protection", "de_escalation"]


def _rubric_answer(payload: dict) -> str:
    text = payload["messages"][-1]["content"]
    if "unreadable" in text:
        return "I cannot rate this."
    return json.dumps({c: (0.9 if c == "exclusion" else 0.1) for c in CATEGORIES})


def test_the_judge_asks_in_the_utterances_language_and_caches(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BACKFIRE_JUDGE_KEY", "sk-judge-test-0000")
    monkeypatch.setattr("simulation.backends.retry.BASE_DELAY_S", 0.0)
    con = duckdb.connect()
    fill_warehouse(con, languages=["en", "ja"], replicates=1, n_turns=1)
    con.execute("""update raw.utterances set text = 'unreadable'
                   where utterance_id = (select min(utterance_id) from raw.utterances where channel = 'talk')""")
    with serve_openai() as (fake, url):
        fake.responder = _rubric_answer
        spec = f"judge:judge-model?base_url={url}&api_key_env=BACKFIRE_JUDGE_KEY&languages=ja,en&batch_size=4"
        scorer = build_scorer(parse_scorer(spec))
        stats = score_pending(con, scorer)
        talk = con.execute("select count(*) from raw.utterances where channel = 'talk'").fetchone()[0]
        assert fake.completions == talk and stats.utterances_scored == talk
        japanese = [r for r in fake.requests if "0（まったく当てはまらない）" in r["messages"][0]["content"]]
        assert len(japanese) == talk // 2  # the instruction and statements are in Japanese for ja runs
        rows = dict(con.execute("""select dimension, avg(value) from raw.scores
                                   where scorer = 'judge' and not abstained group by 1""").fetchall())
        assert rows["pathology"] == pytest.approx(0.9) and rows["protective"] == pytest.approx(0.1)
        abstained = con.execute("select count(*) from raw.scores where scorer = 'judge' and abstained").fetchone()[0]
        assert abstained == len(scorer.dimensions)  # the unreadable answer: every dimension abstains
        con.execute("delete from raw.scores where scorer = 'judge'")
        score_pending(con, build_scorer(parse_scorer(spec)))
        assert fake.completions == talk + 1  # cached answers are free; only the unreadable one is asked again
    assert "sk-judge-test" not in str(con.execute("select * from raw.llm_calls").fetchall())


def test_judge_parsing_and_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    assert parse_judgement('Sure: {"exclusion": 1.4, "care": "high"}', CATEGORIES)["exclusion"] == 1.0
    assert parse_judgement("no json here", CATEGORIES) is None
    system = judge_messages("th", "เราควรฟังเขา")[0].content
    assert "ตอบเป็น JSON เท่านั้น" in system and "ผู้พูดปกป้องสมาชิกคนหนึ่งในกลุ่ม" in system
    monkeypatch.delenv("BACKFIRE_JUDGE_KEY", raising=False)
    with pytest.raises(BackfireError, match="BACKFIRE_JUDGE_KEY"):
        build_scorer(parse_scorer("judge:m?base_url=http://127.0.0.1:1/v1&api_key_env=BACKFIRE_JUDGE_KEY"))
    with pytest.raises(BackfireError, match="base_url"):
        parse_scorer("judge:m")
    with pytest.raises(BackfireError, match="not hold a key"):
        parse_scorer("judge:m?base_url=http://x/v1&api_key_env=sk-live-123")
