"""Lexicon matching (metric v1): counts marker hits per category in one utterance.

Spaced scripts match an entry only at word boundaries; a trailing ``*`` matches any continuation of the stem
(Turkish, Russian or German inflection). Scripts without word spaces (``segmentation: characters``) match
entries as substrings. Overlapping entries of one category count once per position (longest entry first).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from scoring.text_units import combining_marks, normalize
from simulation.content import PATHOLOGY_KINDS, Lexicon


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
    cleaned = sorted({e for e in entries if e.strip().rstrip("*").strip()}, key=lambda e: (-len(e), e))
    if not cleaned:
        return None
    alternation = "|".join(_entry_pattern(e, spaced) for e in cleaned)
    return re.compile(rf"(?<![\w{combining_marks()}])(?:{alternation})" if spaced else alternation, re.UNICODE)


@dataclass(frozen=True)
class CompiledLexicon:
    """Compiled patterns per dimension; dimensions are the ``raw.scores`` names."""

    patterns: dict[str, re.Pattern[str]]

    def count(self, text: str) -> dict[str, int]:
        normalized = normalize(text)
        counts = {dim: len(pattern.findall(normalized)) for dim, pattern in self.patterns.items()}
        counts["pathology"] = sum(counts[f"pathology.{kind}"] for kind in PATHOLOGY_KINDS)
        counts["protective"] = counts["conformity"] + counts["individuation"] + counts.get("protective.general", 0)
        return counts


def compile_lexicon(lexicon: Lexicon, segmentation: str) -> CompiledLexicon:
    spaced = segmentation != "characters"
    groups: dict[str, list[str]] = {f"pathology.{k}": v for k, v in lexicon.pathology.items()}
    groups["conformity"] = lexicon.protective["conformity"]
    groups["individuation"] = lexicon.protective["individuation"]
    if lexicon.protective.get("general"):
        groups["protective.general"] = lexicon.protective["general"]
    patterns = {dim: p for dim, entries in groups.items() if (p := compile_entries(entries, spaced)) is not None}
    return CompiledLexicon(patterns=patterns)


@functools.cache
def lexicon_for(language: str) -> CompiledLexicon:
    """The compiled lexicon of a language pack (cached per process)."""
    from simulation.content import load_language

    content = load_language(language)
    return compile_lexicon(content.lexicon, content.pack.segmentation)
