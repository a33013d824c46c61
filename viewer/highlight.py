"""Lexicon hits as spans of the original text, so the run page can mark them by category.

The scorer counts on the normalized text (NFKC + casefold, white space collapsed). Here each character is
normalized on its own and the results are joined, which keeps an exact map from every normalized position back
to the original character; the scorer's matching rules then run over that text. Per-character NFKC can differ
from whole-text NFKC only around composing sequences, which none of the lexicons' entries span.

Categories are the ``raw.scores`` dimension names (``pathology.exclusion``, ``conformity``...). A category
the scorer adds later, such as ``pathology.negated`` or ``pathology.quoted``, needs no code here: the
stylesheet styles any ``data-cat`` ending in ``.negated`` or ``.quoted`` apart, and unknown ones get a
neutral mark.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from scoring.lexicon import CompiledLexicon

TARGET = "target"
"""The category of the scenario's target resident's name (marked so a reader sees who is being singled out)."""


@dataclass(frozen=True)
class Segment:
    """A piece of an utterance: plain text (``category`` None) or one lexicon hit."""

    text: str
    category: str | None = None

    @property
    def family(self) -> str:
        """``pathology``, ``protective`` or ``target``: the colour family of the mark."""
        if self.category is None:
            return ""
        if self.category.startswith("pathology"):
            return "pathology"
        if self.category == TARGET:
            return TARGET
        return "protective"


@functools.cache
def _lexicon(language: str) -> CompiledLexicon | None:
    """The scorer's own compiled lexicon (``scoring.lexicon.lexicon_for``); None for a language without a pack
    (its text shows unmarked)."""
    from core.errors import BackfireError
    from scoring.lexicon import lexicon_for

    try:
        return lexicon_for(language)
    except BackfireError:
        return None


def warm(languages: list[str]) -> None:
    """Build the matchers of ``languages`` ahead of their first page."""
    for language in languages:
        _lexicon(language)


def _normalized_with_map(text: str) -> tuple[str, list[int]]:
    """The text normalized character by character with runs of white space collapsed to one space (as the
    scorer matches it), and for each resulting position its index in the original text."""
    from scoring.text_units import normalize

    parts, origin = [], []
    previous_space = False
    for index, char in enumerate(text):
        if char.isspace():
            if not previous_space:
                parts.append(" ")
                origin.append(index)
            previous_space = True
            continue
        previous_space = False
        folded = normalize(char)
        parts.append(folded)
        origin.extend([index] * len(folded))
    return "".join(parts), origin


def hit_spans(text: str, language: str, target_name: str = "") -> list[tuple[int, int, str]]:
    """(start, end, category) of each hit in ``text``, non-overlapping, leftmost first (a longer hit wins a tie)."""
    lexicon = _lexicon(language)
    if not text or not (lexicon or target_name):
        return []
    found: list[tuple[int, int, str]] = []
    if lexicon is not None:  # the scorer's matching rules: word bounds, `*` stems, leftmost hits per category
        normalized, origin = _normalized_with_map(text)
        found = [(origin[start], origin[end - 1] + 1, category)
                 for category, hits in lexicon.spans(normalized).items() for start, end, _ in hits if end > start]
    if target_name:
        start = text.find(target_name)
        while start >= 0:
            found.append((start, start + len(target_name), TARGET))
            start = text.find(target_name, start + len(target_name))
    found.sort(key=lambda hit: (hit[0], -(hit[1] - hit[0]), hit[2]))
    kept, position = [], 0
    for start, end, category in found:
        if start >= position:
            kept.append((start, end, category))
            position = end
    return kept


def segments(text: str, language: str, target_name: str = "") -> list[Segment]:
    """``text`` cut into plain and hit segments; joined, they give ``text`` back unchanged."""
    result, position = [], 0
    for start, end, category in hit_spans(text, language, target_name):
        if start > position:
            result.append(Segment(text[position:start]))
        result.append(Segment(text[start:end], category))
        position = end
    if position < len(text):
        result.append(Segment(text[position:]))
    return result
