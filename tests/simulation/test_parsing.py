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
