"""Normalization and counting rules shared by every scorer (metric spec v1, docs/metrics.md)."""

from __future__ import annotations

import re
import unicodedata

_WORD = re.compile(r"\w+", re.UNICODE)
_SPACE = re.compile(r"\s+", re.UNICODE)


def normalize(text: str) -> str:
    """NFKC then casefold, so full-width forms, ligatures and case never change a match or a count."""
    return unicodedata.normalize("NFKC", text).casefold()


def count_characters(text: str) -> int:
    """Characters excluding whitespace, after normalization; the unit of ``monologue_ratio`` in every language."""
    return len(_SPACE.sub("", normalize(text)))


def count_units(text: str, segmentation: str) -> int:
    """Talk units for marker rates: word tokens in spaced scripts, non-space characters otherwise."""
    normalized = normalize(text)
    if segmentation == "characters":
        return len(_SPACE.sub("", normalized))
    return len(_WORD.findall(normalized))
