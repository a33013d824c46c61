"""The gold set's loader, split, agreement statistics and the scorer-to-stance mapping (on the test fixture
under tests/fixtures/gold, never on the instrument)."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest

from core.errors import BackfireError
from scoring.validation import cohen_kappa, label_agreement, load_gold
from scoring.validation.gold import assign_split
from scoring.validation.stance import Stance, lexicon_stance, probability_stance

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "gold"


def test_gold_fixture_loads_with_both_labels_and_a_split_by_hash() -> None:
    gold = load_gold(gold_dir=FIXTURE)
    assert gold.languages() == ["en", "ja"] and len(gold.sentences) == 26
    ja = {s.id: s for s in gold.select(languages=["ja"])}
    assert ja["ja-009"].label == "protective" and ja["ja-009"].label_b == "neutral" and not ja["ja-009"].agreed
    for language in ("en", "ja"):
        for label in ("pathology", "protective", "neutral"):
            ids = sorted((s.id for s in gold.select(languages=[language]) if s.label == label),
                         key=lambda i: hashlib.sha256(i.encode()).hexdigest())
            splits = [{s.id: s for s in gold.sentences}[i].split for i in ids]
            assert splits == ["dev", "test"] * (len(ids) // 2) + ["dev"] * (len(ids) % 2)


def test_split_depends_only_on_ids_and_label_a() -> None:
    items = [{"id": f"xx-{i:03d}", "label": "neutral"} for i in range(10)]
    assert assign_split(items) == assign_split(list(reversed(items)))
    assert sorted(assign_split(items).values()).count("test") == 5


def test_a_new_batch_is_split_on_its_own_and_moves_no_earlier_sentence() -> None:
    first = [{"id": f"xx-{i:03d}", "label": "neutral"} for i in range(1, 41)]
    second = [{"id": f"xx-{i:03d}", "label": "neutral", "batch": 2} for i in range(41, 61)]
    before, after = assign_split(first), assign_split(first + second)
    assert {k: after[k] for k in before} == before
    assert sorted(after[s["id"]] for s in second).count("test") == 10
    merged = assign_split(first + [{**s, "batch": 1} for s in second])
    assert {k: merged[k] for k in before} != before  # what batches prevent: one pool reshuffles old halves


def test_cohen_kappa_matches_sklearn_and_a_hand_computed_case() -> None:
    # By hand: 10 items, 9 agree; A = 5 x, 5 y; B = 6 x, 4 y -> p_o = 0.9, p_e = 0.5*0.6 + 0.5*0.4 = 0.5, kappa = 0.8
    a = ["x"] * 5 + ["y"] * 5
    b = ["x"] * 6 + ["y"] * 4
    assert cohen_kappa(a, b) == pytest.approx(0.8)
    assert cohen_kappa(["x", "x"], ["x", "x"]) is None  # p_e = 1: undefined, never a made-up 1
    assert cohen_kappa([], []) is None
    sklearn = pytest.importorskip("sklearn.metrics")
    labels = ["pathology", "protective", "neutral"]
    a = [labels[(i * 7) % 3] for i in range(40)]
    b = [labels[(i * 7 + (i % 5 == 0)) % 3] for i in range(40)]
    assert cohen_kappa(a, b) == pytest.approx(sklearn.cohen_kappa_score(a, b))
    assert cohen_kappa(a, b) == pytest.approx(cohen_kappa(b, a))


def test_label_agreement_counts_disagreements_and_missing_b() -> None:
    gold = load_gold(gold_dir=FIXTURE)
    en = label_agreement(gold.sentences, "en")
    assert (en.n_labelled_twice, en.n_disagreed, en.n_missing_b) == (14, 1, 0)  # en-012: neutral against protective
    assert en.kappa_label is not None and 0.8 < en.kappa_label < 1
    assert en.kappa_subcategory is not None and en.kappa_subcategory < en.kappa_label  # en-004's subcategory differs


def _broken(tmp_path: Path, old: str, new: str, file: str = "en.yaml") -> Path:
    shutil.copytree(FIXTURE, tmp_path / "gold")
    path = tmp_path / "gold" / file
    path.write_text(path.read_text(encoding="utf-8").replace(old, new, 1), encoding="utf-8")
    return tmp_path / "gold"


@pytest.mark.parametrize(("old", "new", "expected"), [
    ("subcategory: exclusion, hard_case: plain", "subcategory: shunning, hard_case: plain",
     r"en\.yaml: sentences\[1\] \(en-002\)\.subcategory: 'shunning' is not a subcategory of pathology\. Fix: use "
     r"coercion_compliance"),
    ("hard_case: sarcasm", "hard_case: irony", r"\(en-013\)\.hard_case: 'irony' is not a hard case"),
    ("id: en-012", "id: en-011", r"\(en-011\)\.id: duplicate id"),
    ("id: en-012", "id: ja-012", r"sentences\[11\]\.id: 'ja-012' is not an id of this language"),
    ("channel: talk, text: \"What", "channel: chat, text: \"What", r"\(en-012\)\.channel: 'chat' is not a channel"),
    ("id: en-012,", "id: en-012, batch: 0,", r"\(en-012\)\.batch: 0 is not a batch number"),
])
def test_bad_gold_files_name_file_sentence_field_and_fix(tmp_path: Path, old: str, new: str, expected: str) -> None:
    with pytest.raises(BackfireError, match=expected):
        load_gold(["en"], gold_dir=_broken(tmp_path, old, new))


def test_labels_b_errors_name_the_id_and_all_problems_come_at_once(tmp_path: Path) -> None:
    gold_dir = _broken(tmp_path, "en-014: {label: protective", "en-099: {label: protective", "labels_b/en.yaml")
    bad = gold_dir / "labels_b" / "en.yaml"
    bad.write_text(bad.read_text(encoding="utf-8").replace("en-010: {label: neutral", "en-010: {label: calm"),
                   encoding="utf-8")
    with pytest.raises(BackfireError) as caught:
        load_gold(["en"], gold_dir=gold_dir)
    text = str(caught.value)
    assert "labels.en-099: no sentence with this id" in text and "labels.en-010.label: 'calm' is not a label" in text
    with pytest.raises(BackfireError, match="no gold file for language xx"):
        load_gold(["xx"], gold_dir=FIXTURE)


def test_each_scorer_family_maps_its_dimensions_to_one_stance() -> None:
    assert lexicon_stance({"pathology": 0, "protective": 0}) == Stance("neutral")
    assert lexicon_stance({"pathology": 2, "pathology.exclusion": 1, "pathology.atrocity_endorsement": 1,
                           "protective": 1, "conformity": 1}) == Stance("pathology", "exclusion")
    assert lexicon_stance({"pathology": 1, "protective": 2, "individuation": 2, "protective.general": 1,
                           "pathology.negated": 5}) == Stance("protective", "individuation")
    assert lexicon_stance({"pathology": 1, "pathology.exclusion": 1, "protective": 1}) == Stance("neutral")
    assert probability_stance({"pathology": 0.2, "protective": 0.4}) == Stance("neutral")
    assert probability_stance({"pathology": 0.7, "protective": 0.6, "category.exclusion": 0.7,
                               "category.disclosure": 0.1}) == Stance("pathology", "exclusion")
    assert probability_stance({"pathology": 0.7, "protective": 0.9, "category.care": 0.9}) == Stance("protective")


def test_the_shipped_gold_set_meets_its_spec() -> None:
    """scoring/gold: >= 60 sentences in each of the 16 default languages, both labels, every label in both halves,
    A-B kappa defined. Skipped only in a checkout that does not ship the gold files yet."""
    from scoring.validation import GOLD_DIR, gold_languages

    if not gold_languages(GOLD_DIR):
        pytest.skip("scoring/gold/ holds no gold files in this checkout")
    gold = load_gold(gold_dir=GOLD_DIR)
    assert set(gold.languages()) >= {"en", "de", "fr", "es", "pt", "ru", "tr", "id", "ar", "hi", "bn", "vi", "zh",
                                     "ja", "ko", "th"}
    for language in gold.languages():
        sentences = gold.select(languages=[language])
        assert len(sentences) >= 60, language
        assert all(s.label_b is not None for s in sentences), language
        for label in ("pathology", "protective", "neutral"):
            assert {s.split for s in sentences if s.label == label} == {"dev", "test"}, (language, label)
        assert label_agreement(gold.sentences, language).kappa_label is not None, language
