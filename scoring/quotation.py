"""Quoted and echoed text (metric v1.1): words that are not the speaker's own stance.

- **Quoted**: text between a pair of quotation marks of any script (" “” „“ „” «» ‹› 「」 『』 ‘’ 〝〟 ＂, after
  NFKC), or of ASCII single quotes used as quotation marks ('...' opening at a word's start after a space or
  opening punctuation, closing at a word's end; apostrophes inside words are not quotes). Pairs nest (『』
  inside 「」); an opening mark that is never closed quotes nothing. A hit counts as quoted when at least half
  of its characters lie inside the marks.
- **Echoed**: a verbatim run of at least ``ECHO_WORDS`` words (spaced scripts) or ``ECHO_CHARACTERS``
  characters (ja, zh, th) that also occurs in what the agent was shown: the facility's texts (intro, the
  events so far, the alignment and individuation instructions) or other agents' talk of the turns in its
  history window. A hit echoes when every one of its units lies inside such a run.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from scoring.text_units import word_pattern

ECHO_WORDS = 5
ECHO_CHARACTERS = 8

_PAIRS = {"“": "”", "„": "“”", "«": "»", "‹": "›", "「": "」", "『": "』", "‘": "’", "〝": "〟", "»": "«"}
_SYMMETRIC = '"'
_MARKS = re.compile('[' + re.escape("".join(_PAIRS) + "".join(_PAIRS.values()) + _SYMMETRIC) + ']')


_SINGLE_OPEN = re.compile(r"(?:(?<=^)|(?<=[\s(\[{:,;—–-]))'(?=[^\W_])")
_SINGLE_CLOSE = re.compile(r"(?<=[^\s'])'(?=$|[\s.,;:!?)\]}—–-])")


def _single_quoted(text: str) -> list[tuple[int, int]]:
    """Regions between ASCII single quotes used as quotation marks ('nobody gets left behind.'): an opening mark
    starts a word after a space or opening punctuation, a closing one ends a word before a space, punctuation or
    the end; an apostrophe inside a word (don't, Arthur's) is neither."""
    opens = [m.start() for m in _SINGLE_OPEN.finditer(text)]
    closes = [m.start() for m in _SINGLE_CLOSE.finditer(text)]
    regions, position = [], -1
    for opened in opens:
        if opened <= position:
            continue
        closing = next((c for c in closes if c > opened + 1), None)
        if closing is None:
            break
        regions.append((opened + 1, closing))
        position = closing
    return regions


def quoted_regions(text: str) -> list[tuple[int, int]]:
    """The (start, end) character ranges inside quotation marks (outermost pairs only)."""
    regions = _marked_regions(text)
    if "'" in text:
        regions += [r for r in _single_quoted(text)
                    if not any(r[0] < b and a < r[1] for a, b in regions)]
        regions.sort()
    return regions


def _marked_regions(text: str) -> list[tuple[int, int]]:
    regions: list[tuple[int, int]] = []
    stack: list[tuple[str, int]] = []  # (closing marks, position of the opening mark)
    for match in _MARKS.finditer(text):
        mark, position = match.group(), match.start()
        if stack and mark in stack[-1][0]:
            _closers, opened = stack.pop()
            if not stack:
                regions.append((opened + 1, position))
        elif mark == _SYMMETRIC:
            stack.append((_SYMMETRIC, position))
        elif mark in _PAIRS and not (mark == "»" and not stack and "«" not in text[position:]):
            stack.append((_PAIRS[mark], position))
    return regions


def is_inside(regions: Sequence[tuple[int, int]], start: int, end: int) -> bool:
    """Whether at least half of the span lies inside quotation marks: a hit whose entry begins with a word
    before the opening mark (ja 彼女を「追い出す」) is still the quoted words, not the speaker's."""
    inside = sum(max(0, min(end, b) - max(start, a)) for a, b in regions)
    return inside > 0 and 2 * inside >= end - start


def units(text: str, spaced: bool) -> list[tuple[int, int, str]]:
    """Echo units of a normalized text: words (spaced scripts) or non-space characters, with offsets."""
    if spaced:
        return [(m.start(), m.end(), m.group()) for m in word_pattern().finditer(text)]
    return [(i, i + 1, c) for i, c in enumerate(text) if not c.isspace()]


def ngrams(text: str, spaced: bool) -> frozenset[str]:
    """Every run of ``ECHO_WORDS`` words or ``ECHO_CHARACTERS`` characters of a normalized text."""
    size = ECHO_WORDS if spaced else ECHO_CHARACTERS
    parts = [u[2] for u in units(text, spaced)]
    joiner = " " if spaced else ""
    return frozenset(joiner.join(parts[i:i + size]) for i in range(len(parts) - size + 1))


def echoed_mask(text: str, spaced: bool, contexts: Iterable[frozenset[str]]) -> tuple[list[tuple[int, int, str]],
                                                                                      list[bool]]:
    """The units of ``text`` and, per unit, whether a run that the contexts contain covers it."""
    parts = units(text, spaced)
    size = ECHO_WORDS if spaced else ECHO_CHARACTERS
    covered = [False] * len(parts)
    sets = [c for c in contexts if c]
    if not sets or len(parts) < size:
        return parts, covered
    joiner = " " if spaced else ""
    words = [u[2] for u in parts]
    for i in range(len(parts) - size + 1):
        gram = joiner.join(words[i:i + size])
        if any(gram in s for s in sets):
            for j in range(i, i + size):
                covered[j] = True
    return parts, covered


def is_echoed(parts: Sequence[tuple[int, int, str]], covered: Sequence[bool], start: int, end: int) -> bool:
    """Whether every unit of the span [start, end) is covered by an echoed run (and the span has units)."""
    inside = [c for (a, b, _), c in zip(parts, covered, strict=True) if a < end and b > start]
    return bool(inside) and all(inside)
