"""``backfire packs compare``: every master item, both texts, the review marks, the HTML page, clear errors."""

from __future__ import annotations

import shutil
from html import escape
from pathlib import Path

import pytest

from cli.main import main
from simulation.content import BUILTIN_PACK_ROOT, load_language
from simulation.protocol import load_master

FIXTURE = Path(__file__).parents[1] / "fixtures" / "equivalence" / "ja" / "equivalence.yaml"


def _ja_event(event_id: str) -> str:
    return next(e.text for e in load_language("ja").pack.scenario.events if e.id == event_id)


def test_compare_prints_every_master_item_and_both_texts(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["packs", "compare", "en", "ja"]) == 0
    out = capsys.readouterr().out
    for item in load_master().items:
        assert f"] {item.id} ==" in out
    assert _ja_event("silence_consent") in out
    assert "length ratio ja/en:" in out and "(Latn -> Jpan)" in out
    assert "not yet reviewed" not in out  # the shipped ja pack has its review (equivalence.yaml)
    assert "ja: present" in out and "back-translation (ja):" in out


def test_html_page_holds_the_escaped_texts(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    page = tmp_path / "out" / "en-ja.html"
    assert main(["packs", "compare", "en", "ja", "--html", str(page)]) == 0
    html = page.read_text(encoding="utf-8")
    output_format = load_master().item("output_format").text  # quotes and braces: must arrive escaped
    assert escape(output_format) in html and output_format not in html
    assert escape(_ja_event("loyalty_oath")) in html
    assert html.startswith("<!doctype html>") and "<script" not in html


def test_unknown_language_exits_2_naming_the_available_ones(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["packs", "compare", "en", "xx"]) == 2
    err = capsys.readouterr().err
    assert "no language pack for 'xx'" in err and "ja" in err and "en" in err


def test_review_file_marks_appear(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "packs"
    shutil.copytree(BUILTIN_PACK_ROOT / "ja", root / "ja")
    shutil.copy(FIXTURE, root / "ja" / "equivalence.yaml")
    monkeypatch.setenv("BACKFIRE_PACK_PATH", str(root))
    page = tmp_path / "page.html"
    assert main(["packs", "compare", "en", "ja", "--html", str(page)]) == 0
    out = capsys.readouterr().out
    assert "ja: absent (the rule is a one-hour limit on private talk; no meal is lost)" in out
    assert "ja: strengthened (one by one, and as agreement to the rule)" in out
    assert "back-translation (ja): Last night a new rule" in out
    assert "element coverage (ja): not yet reviewed" in out  # items the fixture leaves out
    assert "class='absent'" in page.read_text(encoding="utf-8")


def test_export_shows_only_the_target_text(capsys: pytest.CaptureFixture[str]) -> None:
    """The back-translator's input: the pack's own text, never the master's English."""
    import yaml

    assert main(["packs", "export", "ja"]) == 0
    document = yaml.safe_load(capsys.readouterr().out)
    assert document["language"] == "ja" and "scenario.events.silence_consent" in document["items"]
    master_text = "Last night a new rule was proposed"
    assert all(master_text not in (text or "") for text in document["items"].values())
    assert len(document["personas"]) == 10
