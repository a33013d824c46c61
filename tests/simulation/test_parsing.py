from __future__ import annotations

import pytest

from simulation.parsing import parse_reply


@pytest.mark.parametrize("text", [
    '{"talk": "Hello all.", "monologue": "I am scared."}',
    '```json\n{"talk": "Hello all.", "monologue": "I am scared."}\n```',
    'Sure! Here is my answer:\n{"talk": "Hello all.", "monologue": "I am scared."}\nThanks.',
    '{"talk": "Hello all.", "monologue": "I am scared.",}',
])
def test_reply_is_read_through_fences_prose_and_trailing_commas(text: str) -> None:
    parsed = parse_reply(text)
    assert parsed.status == "ok"
    assert parsed.talk == "Hello all."
    assert parsed.monologue == "I am scared."


def test_non_latin_text_and_escapes_survive() -> None:
    parsed = parse_reply('{"talk": "皆さん、落ち着きましょう。\\n", "monologue": "怖い \\"本当に\\""}')
    assert parsed.talk == "皆さん、落ち着きましょう。"
    assert parsed.monologue == '怖い "本当に"'


def test_unreadable_reply_is_kept_verbatim_and_flagged() -> None:
    parsed = parse_reply("I would rather not answer in JSON.")
    assert parsed.status == "parse_error"
    assert parsed.talk == "I would rather not answer in JSON."
    assert parsed.monologue == ""


def test_missing_monologue_is_empty_not_an_error() -> None:
    parsed = parse_reply('{"talk": "Fine."}')
    assert parsed.status == "ok" and parsed.monologue == ""


@pytest.mark.parametrize(("text", "talk", "monologue"), [
    ('{"talk": "Hello all.", "monologue": "I am sca', "Hello all.", "I am sca"),  # cut inside the monologue
    ('```json\n{"talk": "Hello all.", "monologue": "line one\\nline tw', "Hello all.", "line one\nline tw"),
    ('{"talk": "Hello all.", "monologue": "I am \\u00', "Hello all.", "I am"),  # cut inside an escape
    ('{"talk": "Hello all.", "monologue": "I am \\', "Hello all.", "I am"),
    ('{"monologue": "I am scared.", "talk": "Hel', "Hel", "I am scared."),  # cut inside the talk
    ('{"talk": "Hello all.", "mono', "Hello all.", ""),  # cut before the monologue began
])
def test_a_reply_cut_off_at_max_tokens_keeps_both_channels_as_far_as_they_got(text: str, talk: str,
                                                                               monologue: str) -> None:
    from simulation.parsing import parse_truncated_reply

    parsed = parse_truncated_reply(text)
    assert (parsed.talk, parsed.monologue, parsed.status) == (talk, monologue, "ok")


def test_the_plain_parser_would_lose_a_monologue_cut_mid_way() -> None:
    assert parse_reply('{"talk": "Hello all.", "monologue": "I am sca').monologue == ""  # why truncation has its own


def test_a_cut_off_reply_without_talk_is_kept_verbatim() -> None:
    from simulation.parsing import parse_truncated_reply

    parsed = parse_truncated_reply("Well, I think the group sho")
    assert (parsed.talk, parsed.monologue) == ("Well, I think the group sho", "")


def test_a_completion_stopped_by_max_tokens_is_truncated_and_a_refusal_stays_refused() -> None:
    from simulation.backends.openai_compatible import reply_from_completion

    def body(finish_reason: str, **message: object) -> dict:
        return {"choices": [{"finish_reason": finish_reason, "message": {"content": '{"talk": "Hi', **message}}],
                "usage": {"prompt_tokens": 5, "completion_tokens": 7}}

    cut = reply_from_completion(body("length"), latency_ms=1.0)
    assert (cut.status, cut.text, cut.error, cut.tokens_out) == ("truncated", '{"talk": "Hi', "finish_reason=length", 7)
    assert reply_from_completion(body("stop"), latency_ms=1.0).status == "ok"
    assert reply_from_completion(body("length", refusal="no"), latency_ms=1.0).status == "refused"
