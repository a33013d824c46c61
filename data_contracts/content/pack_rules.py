"""Rules a language pack must satisfy beyond its schema.

The synthetic backend writes talk from phrase banks and the lexicon scorer reads it back, so every bank
sentence must carry a marker of its own category and none of the others; otherwise the planted effects
could not be recovered and the end-to-end test would measure the packs, not the pipeline.
"""

from __future__ import annotations

import string
from collections.abc import Iterable

from simulation.content import PATHOLOGY_KINDS, LanguageContent, load_language
from simulation.errors import LanguagePackError

_PLACEHOLDERS = {"target"}
_LABEL_FIELDS = {"turn": {"turn"}, "persona": {"name", "age", "role", "description"}}


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def _expected_hits(category: str) -> tuple[set[str], set[str]]:
    """Dimensions a bank sentence must hit, and dimensions it must not hit."""
    pathology = {f"pathology.{k}" for k in PATHOLOGY_KINDS}
    protective = {"conformity", "individuation", "protective.general"}
    if category in PATHOLOGY_KINDS:
        return {f"pathology.{category}"}, protective
    if category in ("conformity", "individuation"):
        return {category}, pathology | (protective - {category})
    return set(), pathology | protective


def check_content(content: LanguageContent) -> list[str]:
    """Every problem found in one loaded pack, each naming the language, the key and what is wrong."""
    from scoring.lexicon import compile_lexicon

    pack, lang = content.pack, content.pack.language
    problems: list[str] = []
    compiled = compile_lexicon(content.lexicon, pack.segmentation)
    for category, sentences in pack.phrases.talk.items():
        must, must_not = _expected_hits(category)
        if len(set(sentences)) != len(sentences):
            problems.append(f"{lang}: phrases.talk.{category}: duplicate sentences")
        for i, sentence in enumerate(sentences):
            unknown = _fields(sentence) - _PLACEHOLDERS
            if unknown:
                problems.append(f"{lang}: phrases.talk.{category}[{i}]: unknown placeholder {sorted(unknown)}")
            counts = compiled.count(sentence.replace("{target}", "X"))
            hit = {dim for dim, n in counts.items() if n and dim not in ("pathology", "protective")}
            if must and not (hit & must):
                problems.append(f"{lang}: phrases.talk.{category}[{i}]: no {category} marker in {sentence!r}")
            if hit & must_not:
                problems.append(f"{lang}: phrases.talk.{category}[{i}]: also matches {sorted(hit & must_not)}"
                                f" in {sentence!r}")
    for category, sentences in pack.phrases.monologue.items():
        for i, sentence in enumerate(sentences):
            if _fields(sentence) - _PLACEHOLDERS:
                problems.append(f"{lang}: phrases.monologue.{category}[{i}]: unknown placeholder")
    for label, wanted in _LABEL_FIELDS.items():
        have = _fields(getattr(pack.labels, label))
        if have != wanted:
            problems.append(f"{lang}: labels.{label}: placeholders {sorted(have)}, expected {sorted(wanted)}")
    for i, event in enumerate(pack.scenario.events):
        if _fields(event.text) - _PLACEHOLDERS:
            problems.append(f"{lang}: scenario.events[{i}].text: unknown placeholder")
    for where, text in (("alignment_prefix", pack.alignment_prefix),
                        ("individuation_instruction", pack.individuation_instruction),
                        ("output_format", pack.output_format)):
        if not text.strip():
            problems.append(f"{lang}: {where}: empty")
    if "talk" not in pack.output_format or "monologue" not in pack.output_format:
        problems.append(f"{lang}: output_format: must name the JSON keys 'talk' and 'monologue' literally")
    return problems


def check_language(language: str) -> list[str]:
    """Load one pack and return its problems (a schema error is returned as one problem)."""
    try:
        content = load_language(language)
    except LanguagePackError as exc:
        return [str(exc)]
    return check_content(content)


def check_languages(languages: Iterable[str]) -> list[str]:
    return [problem for lang in languages for problem in check_language(lang)]

