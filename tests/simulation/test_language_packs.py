from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from core.errors import LanguagePackError
from data_contracts.content import check_language
from simulation.content import BUILTIN_PACK_ROOT, N_EVENTS, available_languages, load_language

SIXTEEN = ["en", "de", "fr", "es", "pt", "tr", "id", "vi", "ru", "ar", "hi", "bn", "ja", "zh", "ko", "th"]
SHIPPED = sorted(d.name for d in BUILTIN_PACK_ROOT.iterdir() if (d / "pack.yaml").is_file())
EVENT_IDS = ["arrival_rules", "silence_consent", "report_rule_breakers", "forced_condemnation", "public_apology",
             "disclose_secret", "disclose_others", "history_justification", "punishment_vote", "loyalty_oath",
             "exclusion_order", "ration_cut", "confession_circle", "collective_blame", "expulsion_decision"]


@pytest.mark.parametrize("language", SHIPPED)
def test_shipped_pack_passes_the_content_contract(language: str) -> None:
    assert check_language(language) == []


def test_all_sixteen_languages_ship_with_six_or_more_scripts() -> None:
    assert sorted(SHIPPED) == sorted(SIXTEEN)
    assert len({load_language(lang).pack.script for lang in SHIPPED}) >= 6


@pytest.mark.parametrize("metric", ["v1", "v1.1"])
@pytest.mark.parametrize("language", SHIPPED)
def test_lexicon_precision_and_recall_meet_the_floors(language: str, metric: str) -> None:
    from data_contracts.content.lexicon_quality import (
        PRECISION_FLOOR,
        RECALL_FLOOR,
        load_lexicon_tests,
        measure,
        summary_line,
    )

    content = load_language(language)
    cases = load_lexicon_tests(content)
    assert cases, f"{language}: lexicon_tests.yaml missing"
    if metric == "v1.1":
        pytest.importorskip("simplemma", reason="metric v1.1 needs the lexicon extra")
    results = measure(content, cases, metric)
    print(metric, summary_line(language, results))  # shown with -rA / in CI logs: the per-language report
    for result in results:
        assert result.recall >= RECALL_FLOOR, (language, result.category, result.misses)
        assert result.precision >= PRECISION_FLOOR, (language, result.category, result.false_alarms)


@pytest.mark.parametrize("language", SHIPPED)
def test_every_pack_has_the_same_fifteen_events(language: str) -> None:
    events = load_language(language).pack.scenario.events
    assert len(events) == N_EVENTS
    assert [e.id for e in events] == EVENT_IDS


def test_japanese_pack_is_native_text_not_english() -> None:
    pack = load_language("ja").pack
    assert pack.segmentation == "characters"
    text = pack.scenario.intro + pack.alignment_prefix
    kana_or_kanji = sum(1 for ch in text if "\u3040" <= ch <= "\u30ff" or "\u4e00" <= ch <= "\u9fff")
    assert kana_or_kanji > 0.5 * len(text.replace(" ", ""))


def _copy_pack(tmp_path: Path, language: str = "en") -> Path:
    root = tmp_path / "packs"
    shutil.copytree(BUILTIN_PACK_ROOT / language, root / language)
    return root


def test_missing_pack_key_names_file_and_field(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = _copy_pack(tmp_path)
    pack_file = root / "en" / "pack.yaml"
    data = yaml.safe_load(pack_file.read_text(encoding="utf-8"))
    del data["alignment_prefix"]
    pack_file.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    monkeypatch.setenv("BACKFIRE_PACK_PATH", str(root))
    with pytest.raises(LanguagePackError) as info:
        load_language("en")
    assert info.value.file == str(pack_file)
    assert info.value.field == "alignment_prefix"


def test_phrase_without_its_marker_breaks_the_contract(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = _copy_pack(tmp_path)
    pack_file = root / "en" / "pack.yaml"
    data = yaml.safe_load(pack_file.read_text(encoding="utf-8"))
    data["phrases"]["talk"]["exclusion"][0] = "The soup is warm tonight."
    pack_file.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    monkeypatch.setenv("BACKFIRE_PACK_PATH", str(root))
    problems = check_language("en")
    assert any("phrases.talk.exclusion[0]" in p and "no exclusion marker" in p for p in problems)


def test_unknown_language_lists_the_available_ones() -> None:
    with pytest.raises(LanguagePackError) as info:
        load_language("xx")
    assert "xx" in str(info.value)
    for language in available_languages():
        assert language in str(info.value)
