"""Normalization and counting rules shared by every scorer (metric spec v1, docs/metrics.md)."""

from __future__ import annotations

import functools
import re
import unicodedata

_SPACE = re.compile(r"\s+", re.UNICODE)


@functools.cache
def combining_marks() -> str:
    """A regex class body of the BMP's combining marks (Mn, Mc, Me).

    Python's ``\\w`` excludes them, which would split Devanagari, Bengali, Thai or vocalized Arabic words at
    every vowel sign; word characters here are ``\\w`` plus these marks.
    """
    ranges: list[tuple[int, int]] = []
    for code in range(0x0300, 0x10000):
        if unicodedata.category(chr(code)).startswith("M"):
            if ranges and ranges[-1][1] == code - 1:
                ranges[-1] = (ranges[-1][0], code)
            else:
                ranges.append((code, code))
    return "".join(f"\\u{a:04x}-\\u{b:04x}" if a != b else f"\\u{a:04x}" for a, b in ranges)


@functools.cache
def word_pattern() -> re.Pattern[str]:
    return re.compile(rf"[\w{combining_marks()}]+", re.UNICODE)


def normalize(text: str) -> str:
    """NFKC then casefold, so full-width forms, ligatures and case never change a match or a count.

    Casefolding Turkish dotted capital İ gives "i" plus a combining dot above; the dot is dropped so "İtaat"
    matches "itaat".
    """
    return unicodedata.normalize("NFKC", text).casefold().replace("i\u0307", "i")


def count_characters(text: str, *, normalized: bool = False) -> int:
    """Characters excluding whitespace, after normalization; the unit of ``monologue_ratio`` in every language."""
    return len(_SPACE.sub("", text if normalized else normalize(text)))


def count_units(text: str, segmentation: str, *, normalized: bool = False) -> int:
    """Talk units for marker rates: word tokens in spaced scripts, non-space characters otherwise."""
    normalized_text = text if normalized else normalize(text)
    if segmentation == "characters":
        return len(_SPACE.sub("", normalized_text))
    return len(word_pattern().findall(normalized_text))
