"""Lexicon matching (metric v1): counts marker hits per category in one utterance.

Spaced scripts match an entry only at word boundaries; a trailing ``*`` matches any continuation of the stem
(Turkish, Russian or German inflection). Scripts without word spaces (``segmentation: characters``) match
entries as substrings. Overlapping entries of one category count once per position (longest entry first).

The regular expressions below are the specification (``CompiledLexicon.count_reference``). Counting runs
one Aho-Corasick pass over the text for every category at once, then applies the same boundary and
leftmost-longest rules per category (``count``): ~4x faster, and tested equal to the regexes on every
phrase of every pack.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any

from scoring.text_units import combining_marks, normalize
from simulation.content import PATHOLOGY_KINDS, Lexicon

_SPACES = re.compile(r"\s+", re.UNICODE)
_WORD_CHAR = re.compile(rf"[\w{combining_marks()}]")


def _entry_pattern(entry: str, spaced: bool) -> str:
    stem = normalize(entry.strip())
    is_prefix = stem.endswith("*")
    stem = stem.rstrip("*").strip()
    body = r"\s+".join(re.escape(part) for part in stem.split())
    if not spaced:
        return body
    word = rf"[\w{combining_marks()}]"
    return body + (rf"{word}*" if is_prefix else rf"(?!{word})")


def compile_entries(entries: list[str], spaced: bool) -> re.Pattern[str] | None:
    """One alternation over all entries, longest first so a phrase wins over a word inside it.

    In spaced scripts the word-start lookbehind is factored out of the alternation, so positions inside a
    word are rejected once instead of once per entry (about 5x faster).
    """
    cleaned = _ordered(entries)
    if not cleaned:
        return None
    alternation = "|".join(_entry_pattern(e, spaced) for e in cleaned)
    return re.compile(rf"(?<![\w{combining_marks()}])(?:{alternation})" if spaced else alternation, re.UNICODE)


def _ordered(entries: list[str]) -> list[str]:
    """The alternation order of ``compile_entries``: the first that matches at a position wins."""
    return sorted({e for e in entries if e.strip().rstrip("*").strip()}, key=lambda e: (-len(e), e))


def _totals(counts: dict[str, int]) -> dict[str, int]:
    counts["pathology"] = sum(counts.get(f"pathology.{kind}", 0) for kind in PATHOLOGY_KINDS)
    counts["protective"] = counts.get("conformity", 0) + counts.get("individuation", 0) + \
        counts.get("protective.general", 0)
    return counts


@dataclass(frozen=True)
class CompiledLexicon:
    """A language's entries per dimension (the ``raw.scores`` names) and the automaton that matches them."""

    entries: dict[str, list[str]]
    automaton: Any
    """Aho-Corasick automaton over every entry stem; values are (dimension, rank, length, is_prefix)."""
    spaced: bool

    @functools.cached_property
    def patterns(self) -> dict[str, re.Pattern[str]]:
        """One regex per dimension: the specification ``count_reference`` runs, compiled on first use only
        (seconds per language, which a reader such as the transcript viewer never pays)."""
        return {dim: p for dim, entries in self.entries.items()
                if (p := compile_entries(entries, self.spaced)) is not None}

    @functools.cached_property
    def dimensions(self) -> list[str]:
        """Dimensions with at least one entry; cached: ``count_normalized`` reads it for every utterance."""
        return [dim for dim, entries in self.entries.items() if _ordered(entries)]

    def count_reference(self, text: str) -> dict[str, int]:
        """The specification: one regex ``findall`` per dimension."""
        normalized = normalize(text)
        return _totals({dim: len(pattern.findall(normalized)) for dim, pattern in self.patterns.items()})

    def count(self, text: str) -> dict[str, int]:
        return self.count_normalized(normalize(text))

    def count_normalized(self, text: str) -> dict[str, int]:
        counts = dict.fromkeys(self.dimensions, 0)
        for dim, found in self.spans(collapse_spaces(text)).items():
            counts[dim] = len(found)
        return _totals(counts)

    def spans(self, collapsed: str) -> dict[str, list[tuple[int, int, int]]]:
        """Counted matches per dimension as (start, end, entry_end) offsets into ``collapsed`` (normalized text
        whose whitespace runs are single spaces, ``collapse_spaces``): leftmost first, non-overlapping.
        ``entry_end`` is where the entry's own letters end (before the continuation a ``*`` stem matched)."""
        candidates: dict[str, list[tuple[int, int, int, int]]] = {}
        word, size = _WORD_CHAR.match, len(collapsed)
        for last, matches in self.automaton.iter(collapsed):
            for dim, rank, length, is_prefix in matches:
                start, end = last - length + 1, last + 1
                entry_end = end
                if self.spaced:
                    if start > 0 and word(collapsed, start - 1):
                        continue
                    if is_prefix:
                        while end < size and word(collapsed, end):
                            end += 1
                    elif end < size and word(collapsed, end):
                        continue
                candidates.setdefault(dim, []).append((start, rank, end, entry_end))
        spans: dict[str, list[tuple[int, int, int]]] = {}
        for dim, found in candidates.items():
            found.sort()
            position, kept = 0, []
            for start, _rank, end, entry_end in found:  # leftmost first; at one start the lowest rank wins
                if start >= position:
                    kept.append((start, end, entry_end))
                    position = end
            spans[dim] = kept
        return spans


def collapse_spaces(text: str) -> str:
    """Whitespace runs as one space: the text ``CompiledLexicon.spans`` offsets refer to."""
    return _SPACES.sub(" ", text)


def compile_lexicon(lexicon: Lexicon, segmentation: str) -> CompiledLexicon:
    import ahocorasick

    spaced = segmentation != "characters"
    groups: dict[str, list[str]] = {f"pathology.{k}": v for k, v in lexicon.pathology.items()}
    groups["conformity"] = lexicon.protective["conformity"]
    groups["individuation"] = lexicon.protective["individuation"]
    if lexicon.protective.get("general"):
        groups["protective.general"] = lexicon.protective["general"]
    stems: dict[str, list[tuple[str, int, int, bool]]] = {}
    for dim, entries in groups.items():
        for rank, entry in enumerate(_ordered(entries)):
            stem = normalize(entry.strip())
            is_prefix = spaced and stem.endswith("*")
            key = " ".join(stem.rstrip("*").split())
            stems.setdefault(key, []).append((dim, rank, len(key), is_prefix))
    automaton = ahocorasick.Automaton()
    for key, values in stems.items():
        automaton.add_word(key, tuple(values))
    if stems:
        automaton.make_automaton()
    return CompiledLexicon(entries=groups, automaton=automaton, spaced=spaced)


_COMPILED: dict[tuple[str, str], CompiledLexicon] = {}


def lexicon_for(language: str) -> CompiledLexicon:
    """The compiled lexicon of the language's pack as found now, cached per (language, content hash): a process
    that scores with another pack of the same language (``BACKFIRE_PACK_PATH`` changed, e.g. ``backfire
    reproduce`` with an edited lexicon after an unedited one) compiles that pack, not the first one it saw."""
    from simulation.content import load_language

    content = load_language(language)
    key = (language, content.content_hash)
    if key not in _COMPILED:
        _COMPILED[key] = compile_lexicon(content.lexicon, content.pack.segmentation)
    return _COMPILED[key]
