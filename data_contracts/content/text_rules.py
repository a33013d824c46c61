"""Script and language rules: pack text is in the pack's script and language, with no leftover English.

Language identification uses ``py3langid`` (BSD, ships its model) restricted to the languages we support, so
a Portuguese sentence is never "identified" as Galician. Short texts carry too little signal: per-text rules
apply from ``MIN_SCRIPT_LETTERS`` letters (script) and ``MIN_LANGID_CHARS`` characters (language), and the
whole pack's text is identified once as well.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterator
from typing import Any

from simulation.content import LanguagePack, available_languages

MIN_SCRIPT_LETTERS = 10
MIN_SCRIPT_SHARE = 0.6
MIN_LANGID_CHARS = 60
SUPPORTED = ("en", "de", "fr", "es", "pt", "tr", "id", "vi", "ru", "ar", "hi", "bn", "ja", "zh", "ko", "th", "it")
# Unicode character-name prefixes of each ISO 15924 script.
SCRIPT_NAMES = {
    "Latn": ("LATIN",), "Cyrl": ("CYRILLIC",), "Arab": ("ARABIC",), "Deva": ("DEVANAGARI",),
    "Beng": ("BENGALI",), "Hans": ("CJK UNIFIED",), "Hant": ("CJK UNIFIED",), "Hani": ("CJK UNIFIED",),
    "Jpan": ("CJK UNIFIED", "HIRAGANA", "KATAKANA"), "Hang": ("HANGUL",), "Thai": ("THAI",),
}
_PLACEHOLDER = re.compile(r"\{[a-z_]+\}")
_SKIPPED_KEYS = ("language", "script", "segmentation", "version", "provenance", "scenario.id", "scenario.events.",
                 "personas.", "langid_exceptions")


def _texts(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _texts(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _texts(item, f"{path}.{i}")


def pack_texts(pack: LanguagePack) -> list[tuple[str, str]]:
    """Every human-language text of the pack with its dotted key (codes, ids and provenance left out)."""
    data = pack.model_dump()
    out = []
    for key, text in _texts(data):
        if key.startswith(_SKIPPED_KEYS) and not key.endswith((".text", ".description", ".role")):
            continue
        if key in pack.langid_exceptions:
            continue
        out.append((key, _PLACEHOLDER.sub("", text)))
    return out


def script_share(text: str, script: str) -> tuple[float, int]:
    """Share of letters (combining marks included) that belong to ``script``, and the letter count."""
    prefixes = SCRIPT_NAMES.get(script)
    letters = [ch for ch in text if unicodedata.category(ch)[0] in "LM"]
    if not letters or prefixes is None:
        return 1.0, len(letters)
    inside = sum(1 for ch in letters if unicodedata.name(ch, "").startswith(prefixes))
    return inside / len(letters), len(letters)


@functools.cache
def _identifier() -> Any:
    from py3langid.langid import _load_identifier

    return _load_identifier(norm_probs=True, langs=sorted(set(SUPPORTED) | set(available_languages())))


def identify(text: str) -> tuple[str, float]:
    language, probability = _identifier().classify(text)
    return str(language), float(probability)


def check_text_rules(pack: LanguagePack) -> list[str]:
    """Script, language and leftover-English problems, each naming the language and the key."""
    lang, problems = pack.language, []
    texts = pack_texts(pack)
    for key, text in texts:
        share, n_letters = script_share(text, pack.script)
        if n_letters >= MIN_SCRIPT_LETTERS and share < MIN_SCRIPT_SHARE:
            problems.append(f"{lang}: {key}: only {share:.0%} of letters are in script {pack.script}: {text[:60]!r}")
        if len(text) >= MIN_LANGID_CHARS or (lang != "en" and len(text) >= 25):
            found, probability = identify(text)
            if lang != "en" and found == "en" and probability > 0.9:
                problems.append(f"{lang}: {key}: reads as English, not {lang}: {text[:60]!r}")
            elif len(text) >= MIN_LANGID_CHARS and found != lang and probability > 0.9:
                problems.append(f"{lang}: {key}: identified as '{found}' ({probability:.2f}), not '{lang}': "
                                f"{text[:60]!r}")
    whole, probability = identify(" ".join(text for _, text in texts))
    if whole != lang:
        problems.append(f"{lang}: (whole pack): identified as '{whole}' ({probability:.2f}), not '{lang}'")
    return problems
