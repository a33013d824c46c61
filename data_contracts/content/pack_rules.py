"""Rules a language pack must satisfy beyond its schema.

The synthetic backend writes talk from phrase banks and the lexicon scorer reads it back, so every bank
sentence must carry a marker of its own category and none of the others; otherwise the planted effects
could not be recovered and the end-to-end test would measure the packs, not the pipeline.
"""

from __future__ import annotations

import string
from collections.abc import Iterable

from core.errors import LanguagePackError
from simulation.content import PATHOLOGY_KINDS, LanguageContent, load_builtin_language, load_language

MIN_TALK_SENTENCES = 8
MIN_DISTRESS_THOUGHTS = 8
MIN_NEUTRAL_THOUGHTS = 6
MIN_LEXICON_ENTRIES = 30
REFERENCE_LANGUAGE = "en"
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


def _minimum_counts(content: LanguageContent) -> list[str]:
    pack, lang = content.pack, content.pack.language
    problems = [f"{lang}: phrases.talk.{c}: {len(s)} sentences, needs {MIN_TALK_SENTENCES}"
                for c, s in pack.phrases.talk.items() if len(set(s)) < MIN_TALK_SENTENCES]
    for category, wanted in (("distress", MIN_DISTRESS_THOUGHTS), ("neutral", MIN_NEUTRAL_THOUGHTS)):
        if len(set(pack.phrases.monologue[category])) < wanted:
            problems.append(f"{lang}: phrases.monologue.{category}: needs {wanted} distinct sentences")
    lists = {f"pathology.{k}": v for k, v in content.lexicon.pathology.items()}
    lists |= {f"protective.{k}": v for k, v in content.lexicon.protective.items()}
    for key in [*(f"pathology.{k}" for k in PATHOLOGY_KINDS), "protective.conformity", "protective.individuation",
                "protective.general"]:
        if len(lists.get(key, [])) < MIN_LEXICON_ENTRIES:
            problems.append(f"{lang}: lexicon {key}: {len(lists.get(key, []))} entries, needs {MIN_LEXICON_ENTRIES}")
    return problems


def _unique_entries(content: LanguageContent) -> list[str]:
    """Entries must be unique after normalization across the whole lexicon: one category each."""
    from scoring.text_units import normalize

    lang = content.pack.language
    seen: dict[str, str] = {}
    problems: list[str] = []
    for group, categories in (("pathology", content.lexicon.pathology), ("protective", content.lexicon.protective)):
        for category, entries in categories.items():
            for entry in entries:
                key = " ".join(normalize(entry).split())
                where = f"{group}.{category}"
                if key in seen:
                    problems.append(f"{lang}: lexicon {where}: {entry!r} already listed in {seen[key]}")
                seen.setdefault(key, where)
    return problems


def check_target(content: LanguageContent) -> list[str]:
    """The target resident is a scenario character, never one of the agents.

    If ``scenario.target_name`` were a persona's name (or shared a name part with one, "Grace" and "Grace Kim"),
    an agent would read that it "has stayed silent" while it speaks, and the events would single out an agent
    in some runs only. A name the lexicon counts would add marker hits to every sentence that names it.
    """
    from scoring.lexicon import compile_lexicon

    pack, lang = content.pack, content.pack.language
    target = pack.scenario.target_name.strip()
    if not target:
        return [f"{lang}: scenario.target_name: empty; name the resident the events single out ({{target}})"]
    problems = []
    parts = set(target.casefold().split())
    for persona in pack.personas:
        if target.casefold() == persona.name.strip().casefold() or parts & set(persona.name.casefold().split()):
            problems.append(f"{lang}: scenario.target_name: {target!r} is (part of) the name of persona {persona.id} "
                            f"({persona.name!r}); the target must be a resident who is not one of the agents: "
                            "choose a name no persona uses")
    counts = compile_lexicon(content.lexicon, pack.segmentation).count(target)
    hits = sorted(dim for dim, n in counts.items() if n and dim not in ("pathology", "protective", "units",
                                                                         "characters"))
    if hits:
        problems.append(f"{lang}: scenario.target_name: {target!r} matches lexicon markers {hits}; choose a name "
                        "the lexicon does not count")
    return problems


def _placeholders_match_reference(content: LanguageContent) -> list[str]:
    """Placeholders survive translation: the intro and each event keep every placeholder of the built-in English
    text."""
    lang = content.pack.language
    reference_content = load_builtin_language(REFERENCE_LANGUAGE)
    if content.path == reference_content.path:
        return []
    reference = reference_content.pack
    problems = []
    if _fields(reference.scenario.intro) - _fields(content.pack.scenario.intro):
        lost = sorted(_fields(reference.scenario.intro) - _fields(content.pack.scenario.intro))
        problems.append(f"{lang}: scenario.intro: lost placeholder {lost} that {REFERENCE_LANGUAGE} has")
    for event, ref in zip(content.pack.scenario.events, reference.scenario.events, strict=True):
        if event.id != ref.id or event.pressure != ref.pressure:
            problems.append(f"{lang}: scenario.events[{event.id}]: id/pressure differ from {REFERENCE_LANGUAGE} "
                            f"({ref.id}/{ref.pressure})")
        elif _fields(ref.text) - _fields(event.text):
            lost = sorted(_fields(ref.text) - _fields(event.text))
            problems.append(f"{lang}: scenario.events[{event.id}].text: lost placeholder {lost} that "
                            f"{REFERENCE_LANGUAGE} has")
    return problems


def check_content(content: LanguageContent) -> list[str]:
    """Every problem found in one loaded pack, each naming the language, the key and what is wrong."""
    from data_contracts.content.equivalence import check_equivalence
    from data_contracts.content.lexicon_quality import check_lexicon_quality
    from data_contracts.content.text_rules import check_text_rules
    from scoring.lexicon import compile_lexicon

    pack, lang = content.pack, content.pack.language
    problems: list[str] = []
    problems += _minimum_counts(content)
    problems += _unique_entries(content)
    problems += _placeholders_match_reference(content)
    problems += check_target(content)
    problems += check_equivalence(content)
    problems += check_text_rules(pack)
    problems += check_lexicon_quality(content)
    compiled = compile_lexicon(content.lexicon, pack.segmentation)
    for category, sentences in pack.phrases.talk.items():
        must, must_not = _expected_hits(category)
        if len(set(sentences)) != len(sentences):
            problems.append(f"{lang}: phrases.talk.{category}: duplicate sentences")
        for i, sentence in enumerate(sentences):
            unknown = _fields(sentence) - _PLACEHOLDERS
            if unknown:
                problems.append(f"{lang}: phrases.talk.{category}[{i}]: unknown placeholder {sorted(unknown)}")
            counts = compiled.count(sentence.replace("{target}", pack.scenario.target_name))
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
    if _fields(pack.scenario.intro) - _PLACEHOLDERS:
        problems.append(f"{lang}: scenario.intro: unknown placeholder")
    for i, event in enumerate(pack.scenario.events):
        if _fields(event.text) - _PLACEHOLDERS:
            problems.append(f"{lang}: scenario.events[{i}].text: unknown placeholder")
    for where, text in (("alignment_prefix", pack.alignment_prefix),
                        ("individuation_instruction", pack.individuation_instruction),
                        ("output_format", pack.output_format)):
        if not text.strip():
            problems.append(f"{lang}: {where}: empty")
    if not pack.probe.question.strip():
        problems.append(f"{lang}: probe.question: empty")
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

