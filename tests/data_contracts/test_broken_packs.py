"""Deliberately broken packs: every content rule fires on its own breakage, naming language and key."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from data_contracts.content import check_language
from simulation.content import BUILTIN_PACK_ROOT, _load_cached

Breakage = Callable[[dict[str, Any], dict[str, Any], dict[str, Any]], None]


def _talk(pack: dict, category: str) -> list[str]:
    return pack["phrases"]["talk"][category]


def _drop_key(pack: dict, lexicon: dict, tests: dict) -> None:
    del pack["probe"]


def _lost_placeholder(pack: dict, lexicon: dict, tests: dict) -> None:
    event = next(e for e in pack["scenario"]["events"] if "{target}" in e["text"])
    event["text"] = event["text"].replace("{target}", "Bob")


def _target_is_a_persona(pack: dict, lexicon: dict, tests: dict) -> None:
    pack["scenario"]["target_name"] = pack["personas"][2]["name"]


def _target_is_a_persona_first_name(pack: dict, lexicon: dict, tests: dict) -> None:
    pack["scenario"]["target_name"] = pack["personas"][4]["name"].split()[0]


def _no_target(pack: dict, lexicon: dict, tests: dict) -> None:
    del pack["scenario"]["target_name"]


def _target_not_introduced(pack: dict, lexicon: dict, tests: dict) -> None:
    pack["scenario"]["intro"] = pack["scenario"]["intro"].replace("{target}", "someone")


def _wrong_label_placeholder(pack: dict, lexicon: dict, tests: dict) -> None:
    pack["labels"]["turn"] = "Turn {round}"


def _wrong_script(pack: dict, lexicon: dict, tests: dict) -> None:
    pack["individuation_instruction"] = "Пожалуйста, думайте самостоятельно и не поддавайтесь давлению группы."


def _wrong_language(pack: dict, lexicon: dict, tests: dict) -> None:
    pack["scenario"]["intro"] = ("Vous êtes enfermés dans un centre isolé au milieu de l'hiver, et personne ne sait "
                                 "quand les portes s'ouvriront de nouveau.")


def _duplicate_entry(pack: dict, lexicon: dict, tests: dict) -> None:
    lexicon["protective"]["general"].append(lexicon["pathology"]["exclusion"][0].upper())


def _too_few_entries(pack: dict, lexicon: dict, tests: dict) -> None:
    lexicon["protective"]["conformity"] = lexicon["protective"]["conformity"][:5]


def _too_few_sentences(pack: dict, lexicon: dict, tests: dict) -> None:
    pack["phrases"]["talk"]["disclosure"] = _talk(pack, "disclosure")[:3]


def _sentence_without_marker(pack: dict, lexicon: dict, tests: dict) -> None:
    _talk(pack, "exclusion")[0] = "The soup is warm tonight."


def _sentence_in_two_categories(pack: dict, lexicon: dict, tests: dict) -> None:
    _talk(pack, "neutral")[0] = _talk(pack, "individuation")[0]


def _empty_probe(pack: dict, lexicon: dict, tests: dict) -> None:
    pack["probe"]["question"] = " "


def _no_test_sentences(pack: dict, lexicon: dict, tests: dict) -> None:
    tests["cases"]["disclosure"]["negative"] = tests["cases"]["disclosure"]["negative"][:2]


def _poor_recall(pack: dict, lexicon: dict, tests: dict) -> None:
    tests["cases"]["exclusion"]["positive"] = [f"A perfectly calm sentence number {i}." for i in range(6)]


def _poor_precision(pack: dict, lexicon: dict, tests: dict) -> None:
    tests["cases"]["conformity"]["negative"] = list(tests["cases"]["conformity"]["positive"])


BREAKAGES: dict[str, tuple[Breakage, str]] = {
    "missing key": (_drop_key, "probe"),
    "lost placeholder": (_lost_placeholder, "lost placeholder"),
    "label placeholder": (_wrong_label_placeholder, "labels.turn"),
    "target is a persona": (_target_is_a_persona, "scenario.target_name: 'Priya Sharma' is (part of) the name of "
                                                   "persona p03"),
    "target shares a persona's given name": (_target_is_a_persona_first_name, "name of persona p05"),
    "no target": (_no_target, "scenario.target_name"),
    "target not introduced": (_target_not_introduced, "scenario.intro: lost placeholder ['target']"),
    "wrong script": (_wrong_script, "script Latn"),
    "wrong language": (_wrong_language, "identified as 'fr'"),
    "duplicate lexicon entry": (_duplicate_entry, "already listed in pathology.exclusion"),
    "too few lexicon entries": (_too_few_entries, "protective.conformity: 5 entries"),
    "too few sentences": (_too_few_sentences, "phrases.talk.disclosure: 3 sentences"),
    "sentence without its marker": (_sentence_without_marker, "no exclusion marker"),
    "sentence in two categories": (_sentence_in_two_categories, "phrases.talk.neutral[0]: also matches"),
    "empty probe": (_empty_probe, "probe.question: empty"),
    "too few test sentences": (_no_test_sentences, "lexicon_tests.disclosure.negative"),
    "recall under the floor": (_poor_recall, "lexicon.exclusion: recall"),
    "precision under the floor": (_poor_precision, "lexicon.conformity: precision"),
}


@pytest.fixture
def broken_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    def _break(breakage: Breakage) -> None:
        root = tmp_path / "packs"
        shutil.copytree(BUILTIN_PACK_ROOT / "en", root / "en")
        files = {name: root / "en" / f"{name}.yaml" for name in ("pack", "lexicon", "lexicon_tests")}
        data = {name: yaml.safe_load(path.read_text(encoding="utf-8")) for name, path in files.items()}
        breakage(data["pack"], data["lexicon"], data["lexicon_tests"])
        for name, path in files.items():
            path.write_text(yaml.safe_dump(data[name], allow_unicode=True, sort_keys=False), encoding="utf-8")
        monkeypatch.setenv("BACKFIRE_PACK_PATH", str(root))
        _load_cached.cache_clear()

    yield _break
    _load_cached.cache_clear()


def test_the_reference_pack_is_clean() -> None:
    assert check_language("en") == []


@pytest.mark.parametrize("name", sorted(BREAKAGES))
def test_each_rule_fires_on_its_breakage(name: str, broken_root) -> None:
    breakage, expected = BREAKAGES[name]
    broken_root(breakage)
    problems = check_language("en")
    assert any(expected in problem for problem in problems), problems
    assert all(problem.startswith("en") or "pack.yaml" in problem for problem in problems)


def test_a_target_who_is_one_of_the_agents_fails_with_the_fix(broken_root) -> None:
    """The target is a resident outside the group: a pack naming a persona as the target is refused, saying why."""
    broken_root(_target_is_a_persona)
    problems = [p for p in check_language("en") if "target_name" in p]
    assert problems == ["en: scenario.target_name: 'Priya Sharma' is (part of) the name of persona p03 "
                        "('Priya Sharma'); the target must be a resident who is not one of the agents: choose a "
                        "name no persona uses"]
