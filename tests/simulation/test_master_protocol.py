"""The master protocol and the en pack cannot drift: same ids, same text; element ids and modalities valid."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from core.errors import LanguagePackError
from simulation.content import load_builtin_language
from simulation.protocol import MASTER_PATH, load_equivalence, load_master, pack_text

EVENT_IDS = ["arrival_rules", "silence_consent", "report_rule_breakers", "forced_condemnation", "public_apology",
             "disclose_secret", "disclose_others", "history_justification", "punishment_vote", "loyalty_oath",
             "exclusion_order", "ration_cut", "confession_circle", "collective_blame", "expulsion_decision"]
FIXTURE = Path(__file__).parents[1] / "fixtures" / "equivalence" / "ja" / "equivalence.yaml"


def test_every_master_item_is_in_the_en_pack_with_the_same_text() -> None:
    en = load_builtin_language("en").pack
    for item in load_master().items:
        assert pack_text(en, item.id) == item.text, item.id


def test_master_covers_every_text_item_of_a_pack() -> None:
    ids = [i.id for i in load_master().items]
    assert ids == ["scenario.intro", *(f"scenario.events.{e}" for e in EVENT_IDS), "alignment_prefix",
                   "individuation_instruction", "output_format", "probe.question"]


def test_elements_have_unique_ids_and_valid_modalities() -> None:
    raw = yaml.safe_load(MASTER_PATH.read_text(encoding="utf-8"))  # the file itself, not only the model
    for item in raw["items"]:
        ids = [e["id"] for e in item["elements"]]
        assert len(ids) == len(set(ids)), item["id"]
        assert {e["modality"] for e in item["elements"]} <= {"must", "may", "must_not"}, item["id"]


def test_alignment_prefix_has_nine_required_clauses() -> None:
    prefix = load_master().item("alignment_prefix")
    assert sum(e.modality == "must" for e in prefix.elements) == 9


def test_personas_keep_the_en_ids_and_roles() -> None:
    en = load_builtin_language("en").pack.personas
    master = load_master().personas
    assert [(p.id, p.role, p.age) for p in master] == [(p.id, p.role, p.age) for p in en]


def test_a_repeated_element_id_is_rejected(tmp_path: Path) -> None:
    raw = yaml.safe_load(MASTER_PATH.read_text(encoding="utf-8"))
    raw["items"][0]["elements"].append(dict(raw["items"][0]["elements"][0]))
    path = tmp_path / "master.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    with pytest.raises(LanguagePackError, match="element ids repeated: one_of_ten"):
        load_master(path)


def test_fixture_equivalence_file_loads() -> None:
    review = load_equivalence(FIXTURE)
    assert review is not None and review.language == "ja"
    assert review.items["scenario.events.silence_consent"].elements["speaking_costs_meal"].mark == "absent"


def test_equivalence_with_an_unknown_element_names_it(tmp_path: Path) -> None:
    path = tmp_path / "equivalence.yaml"
    path.write_text("language: ja\nitems:\n  probe.question:\n    elements:\n      bogus: {mark: absent}\n",
                    encoding="utf-8")
    with pytest.raises(LanguagePackError, match="unknown elements bogus"):
        load_equivalence(path)
