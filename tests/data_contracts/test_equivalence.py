"""The equivalence contract: every shipped pack passes it, and a translation that adds an element, drops one, or
says "may" where the master says "must" fails, naming the pack, the item and the element."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from data_contracts.content import check_language
from data_contracts.content.equivalence import check_equivalence
from simulation.content import BUILTIN_PACK_ROOT, _load_cached, available_languages, load_language

FIXTURE_LANGUAGE = "fr"  # a reviewed pack the fixtures break
ITEM, ELEMENT = "scenario.events.silence_consent", "speaking_costs_meal"
Breakage = Callable[[dict[str, Any], dict[str, Any]], None]


def _added_surveillance_cue(pack: dict, review: dict) -> None:
    pack["scenario"]["intro"] += " Tout ce que vous dites est enregistré."
    review["items"]["scenario.intro"]["additions"] = [{"content": "everything you say is recorded"}]
    review["items"]["scenario.intro"]["elements"]["no_surveillance_cue"] = {"mark": "present"}


def _dropped_penalty(pack: dict, review: dict) -> None:
    review["items"][ITEM]["elements"][ELEMENT] = {"mark": "absent", "note": "the lost meal is not mentioned"}


def _may_for_must(pack: dict, review: dict) -> None:
    event = next(e for e in pack["scenario"]["events"] if e["id"] == "silence_consent")
    assert "sera privé" in event["text"]
    event["text"] = event["text"].replace("sera privé", "pourra être privé")  # will lose -> may lose
    review["items"][ITEM]["elements"][ELEMENT] = {"mark": "weakened", "note": "may lose, where the master says loses"}


def _no_review(pack: dict, review: dict) -> None:
    review.clear()


BREAKAGES: dict[str, tuple[Breakage, str]] = {
    "added element": (_added_surveillance_cue, "fr: scenario.intro: added content not in the master: "
                                               "'everything you say is recorded'"),
    "dropped element": (_dropped_penalty, f"fr: {ITEM}: element {ELEMENT} (must, one meal: the next one only) is "
                                          "absent: the lost meal is not mentioned"),
    "may for must": (_may_for_must, f"fr: {ITEM}: element {ELEMENT} (must, one meal: the next one only) is weakened: "
                                    "may lose, where the master says loses"),
    "no review": (_no_review, "fr: no equivalence review"),
}


@pytest.fixture
def broken(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    def _break(breakage: Breakage) -> list[str]:
        root = tmp_path / "packs"
        shutil.copytree(BUILTIN_PACK_ROOT / FIXTURE_LANGUAGE, root / FIXTURE_LANGUAGE)
        pack_path, review_path = (root / FIXTURE_LANGUAGE / name for name in ("pack.yaml", "equivalence.yaml"))
        pack, review = (yaml.safe_load(path.read_text(encoding="utf-8")) for path in (pack_path, review_path))
        breakage(pack, review)
        pack_path.write_text(yaml.safe_dump(pack, allow_unicode=True, sort_keys=False), encoding="utf-8")
        if review:
            review_path.write_text(yaml.safe_dump(review, allow_unicode=True, sort_keys=False), encoding="utf-8")
        else:
            review_path.unlink()
        monkeypatch.setenv("BACKFIRE_PACK_PATH", str(root))
        _load_cached.cache_clear()
        return check_language(FIXTURE_LANGUAGE)

    yield _break
    _load_cached.cache_clear()


@pytest.mark.parametrize("language", sorted(available_languages()))
def test_every_shipped_pack_is_equivalent_to_the_master(language: str) -> None:
    assert check_equivalence(load_language(language)) == []


@pytest.mark.parametrize("name", sorted(BREAKAGES))
def test_each_departure_fails_naming_pack_item_and_element(name: str, broken) -> None:
    breakage, expected = BREAKAGES[name]
    problems = broken(breakage)
    assert any(problem.startswith(expected) for problem in problems), problems
