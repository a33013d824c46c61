"""The run page's lexicon highlighter marks exactly what the scorer counts, in every script, and styles
categories it does not know yet (negated, quoted) apart without code changes."""

from __future__ import annotations

from collections import Counter

import pytest

from scoring.lexicon import lexicon_for
from simulation.content import load_language
from viewer.highlight import TARGET, hit_spans, segments
from viewer.render import environment


def _phrases(language: str) -> list[str]:
    banks = load_language(language).pack.phrases
    return [phrase for bank in (banks.talk, banks.monologue) for phrases in bank.values() for phrase in phrases]


@pytest.mark.slow  # the scorer's lexicon compiles its regexes: about 2 s per language
@pytest.mark.parametrize("language", ["en", "de", "tr", "ar", "hi", "bn", "th", "ja", "zh", "ko"])
def test_highlighted_hits_count_what_the_scorer_counts(language: str) -> None:
    """Every phrase the synthetic backend can say: per category, as many marks as the scorer counts."""
    compiled = lexicon_for(language)
    checked = 0
    for phrase in _phrases(language):
        text = phrase.replace("{target}", "X")
        expected = {k: v for k, v in compiled.count(text).items() if v and k not in ("pathology", "protective")}
        assert dict(Counter(category for _, _, category in hit_spans(text, language))) == expected, phrase
        checked += bool(expected)
    assert checked > 5  # the phrase banks do carry markers


def test_segments_give_the_text_back_and_mark_the_target() -> None:
    text = "We  MUST   expel Arthur from the group.\nI’ll obey."
    parts = segments(text, "en", "Arthur")
    assert "".join(part.text for part in parts) == text
    marked = {part.text: part.category for part in parts if part.category}
    assert marked["Arthur"] == TARGET
    assert marked["We  MUST   expel"] == "pathology.exclusion"  # white space runs and case, as the scorer reads them
    assert marked["I’ll obey"] == "pathology.coercion_compliance"


def test_an_unknown_language_shows_its_text_unmarked() -> None:
    assert [(part.text, part.category) for part in segments("we must expel", "xx")] == [("we must expel", None)]


def test_a_category_the_scorer_adds_later_renders_with_its_own_style() -> None:
    """``pathology.negated`` (another scorer's dimension) needs no code: the mark carries the category and the
    stylesheet's ``$=".negated"`` rule draws it struck through."""
    from pathlib import Path

    from viewer.highlight import Segment

    macro = environment().from_string(
        '{% from "_utterance.html" import utterance %}{{ utterance(u, run, "ltr", "talk") }}')
    utterance = {"segments": [Segment("I will never "), Segment("exclude", "pathology.negated")],
                 "status": "ok", "reasks": 0, "error": None, "text": "I will never exclude", "failed": False,
                 "tooltip": "", "hits": {}, "model_scores": []}
    html = macro.render(u=utterance, run={"language": "en"})
    assert '<mark class="hit pathology" data-cat="pathology.negated"' in html
    css = (Path(environment().loader.searchpath[0]).parent / "static" / "viewer.css").read_text()  # type: ignore[union-attr]
    assert 'data-cat$=".negated"' in css and 'data-cat$=".quoted"' in css
