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
import re
from dataclasses import dataclass
from typing import Any

from scoring.text_units import combining_marks

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


@dataclass(frozen=True)
class _Matcher:
    """One Aho-Corasick automaton over a language's lexicon entries (values: category, rank, length, is_prefix),
    built as ``scoring.lexicon.compile_lexicon`` builds the scorer's, without its regexes (compiling those takes
    seconds per language: too slow for a page)."""

    automaton: Any
    spaced: bool


@functools.cache
def _matcher(language: str) -> _Matcher | None:
    """The language's matcher; None for a language without a pack (its text shows unmarked)."""
    import ahocorasick

    from core.errors import BackfireError
    from scoring.lexicon import _ordered
    from scoring.text_units import normalize
    from simulation.content import load_language

    try:
        content = load_language(language)
    except BackfireError:
        return None
    lexicon, spaced = content.lexicon, content.pack.segmentation != "characters"
    groups: dict[str, list[str]] = {f"pathology.{k}": v for k, v in lexicon.pathology.items()}
    groups.update({k if k != "general" else "protective.general": v for k, v in lexicon.protective.items() if v})
    automaton = ahocorasick.Automaton()
    stems: dict[str, list[tuple[str, int, int, bool]]] = {}
    for category, entries in groups.items():
        for rank, entry in enumerate(_ordered(entries)):
            stem = normalize(entry.strip())
            key = " ".join(stem.rstrip("*").split())
            stems.setdefault(key, []).append((category, rank, len(key), spaced and stem.endswith("*")))
    for key, values in stems.items():
        automaton.add_word(key, tuple(values))
    if not stems:
        return None
    automaton.make_automaton()
    return _Matcher(automaton, spaced)


def warm(languages: list[str]) -> None:
    """Build the matchers of ``languages`` ahead of their first page."""
    for language in languages:
        _matcher(language)


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


def _lexicon_hits(matcher: _Matcher, text: str) -> list[tuple[int, int, str]]:
    """The scorer's rules (``CompiledLexicon.count_normalized``): word boundaries in spaced scripts, a ``*``
    stem runs to the end of its word, and per category leftmost hits win, the longest at one start."""
    word_char = re.compile(rf"[\w{combining_marks()}]").match
    size = len(text)
    candidates: dict[str, list[tuple[int, int, int]]] = {}
    for last, matches in matcher.automaton.iter(text):
        for category, rank, length, is_prefix in matches:
            start, end = last - length + 1, last + 1
            if matcher.spaced:
                if start > 0 and word_char(text, start - 1):
                    continue
                if is_prefix:
                    while end < size and word_char(text, end):
                        end += 1
                elif end < size and word_char(text, end):
                    continue
            candidates.setdefault(category, []).append((start, rank, end))
    hits = []
    for category, found in candidates.items():
        found.sort()
        position = 0
        for start, _rank, end in found:
            if start >= position:
                hits.append((start, end, category))
                position = end
    return hits


def hit_spans(text: str, language: str, target_name: str = "") -> list[tuple[int, int, str]]:
    """(start, end, category) of each hit in ``text``, non-overlapping, leftmost first (a longer hit wins a tie)."""
    matcher = _matcher(language)
    if not text or not (matcher or target_name):
        return []
    found: list[tuple[int, int, str]] = []
    if matcher is not None:
        normalized, origin = _normalized_with_map(text)
        found = [(origin[start], origin[end - 1] + 1, category)
                 for start, end, category in _lexicon_hits(matcher, normalized) if end > start]
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
