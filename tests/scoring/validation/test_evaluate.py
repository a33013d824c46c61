"""Scorers against the gold test fixture: per-language figures (checked by hand), the differential error check
with its Newcombe CI, and the judge calibrated against a scripted judge on 127.0.0.1."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from core.errors import BackfireError
from scoring import get_scorer
from scoring.validation import evaluate_scorer, load_gold
from scoring.validation.evaluate import POOLED, store_evaluation
from scoring.validation.metrics import newcombe_difference, wilson_interval
from scoring.validation.scorers import default_scorer_specs, evaluation_scorers
from warehouse.schema import ensure_raw_schema

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "gold"


def _rows(rows: list[dict], language: str) -> dict[tuple[str, str], dict]:
    return {(r["breakdown"], r["category"]): r for r in rows if r["language"] == language}


def test_lexicon_v1_on_the_fixture_test_half_matches_a_hand_count() -> None:
    """en test half: en-001, en-002 pathology (both hit), en-006, en-007 protective (hit), en-014 protective
    (a hedged refusal: no marker, so neutral), en-011 neutral -> pathology P = R = 1; protective P = 1, R = 2/3,
    F1 = 0.8; language F1 = (1 + 0.8) / 2 = 0.9. ja: ja-009 (A protective, B neutral) is excluded and counted."""
    gold = load_gold(gold_dir=FIXTURE)
    evaluation = evaluate_scorer(get_scorer("lexicon"), gold, split="test")
    en, ja = _rows(evaluation.validation_rows, "en"), _rows(evaluation.validation_rows, "ja")
    assert en[("overall", "all")]["f1"] == pytest.approx(0.9) and en[("overall", "all")]["n"] == 6
    assert en[("label", "protective")]["recall"] == pytest.approx(2 / 3)
    assert en[("hard_case", "hedged_refusal")]["accuracy"] == 0.0
    assert ja[("overall", "all")]["n_disagreed"] == 1 and ja[("overall", "all")]["n"] == 4
    assert ja[("hard_case", "negated_marker")]["accuracy"] == 0.0  # 私は反対しません, 外に出すべきだとは思いません
    assert en[("overall", "all")]["model_id"].startswith("lexicon/en@")
    registers = {r["language"]: r for r in evaluation.register_rows}
    assert set(registers) == {"en", "ja", POOLED}
    pooled = registers[POOLED]
    assert (pooled["n_sensitive"], pooled["errors_sensitive"], pooled["n_rest"], pooled["errors_rest"]) == (3, 3, 7, 0)
    assert pooled["flagged"] and pooled["ci_low"] <= pooled["difference"] <= pooled["ci_high"]


def test_evaluations_are_stored_and_a_rerun_replaces_them() -> None:
    con = duckdb.connect()
    ensure_raw_schema(con)
    gold = load_gold(["en"], gold_dir=FIXTURE)
    scorer = get_scorer("lexicon")
    store_evaluation(con, evaluate_scorer(scorer, gold, split="dev"))
    first = con.execute("select count(*) from raw.scorer_validation").fetchone()[0]
    store_evaluation(con, evaluate_scorer(scorer, gold, split="dev"))
    assert con.execute("select count(*) from raw.scorer_validation").fetchone()[0] == first > 0
    assert con.execute("select distinct split from raw.scorer_register_errors").fetchall() == [("dev",)]


def test_newcombe_and_wilson_match_the_published_examples() -> None:
    # Newcombe (1998), Statistics in Medicine 17:873, method 10: 56/70 - 48/80 -> [0.0524, 0.3339];
    # 9/10 - 3/10 -> [0.1705, 0.8090]; Newcombe (1998) 17:857 Wilson: 81/263 -> [0.2553, 0.3662].
    assert newcombe_difference(56, 70, 48, 80) == pytest.approx((0.0524, 0.3339), abs=1e-4)
    assert newcombe_difference(9, 10, 3, 10) == pytest.approx((0.1705, 0.8090), abs=1e-4)
    assert wilson_interval(81, 263) == pytest.approx((0.2553, 0.3662), abs=1e-4)


def test_default_scorers_need_no_model_and_non_stance_scorers_are_refused() -> None:
    assert "lexicon" in default_scorer_specs() and "langid" not in default_scorer_specs()
    assert [s.name for s in evaluation_scorers(["lexicon"])] == ["lexicon"]
    with pytest.raises(BackfireError, match="langid has no pathology/protective dimensions"):
        evaluation_scorers(["langid"])
    with pytest.raises(BackfireError, match="unknown scorer 'lexicon-v9'"):
        evaluation_scorers(["lexicon-v9"])


@pytest.mark.integration
def test_judge_calibration_with_a_scripted_judge_on_localhost(monkeypatch: pytest.MonkeyPatch) -> None:
    """The judge's rubric on the gold set: a scripted judge that rates each sentence by its gold label A (and
    cannot read one) validates at F1 = 1 on what it reads; it reads talk only and caches its answers."""
    pytest.importorskip("aiohttp")
    from scoring.validation.scorers import evaluation_scorers
    from tests.test_helpers.openai_server import serve_openai

    gold = load_gold(gold_dir=FIXTURE)
    by_text = {s.text: s for s in gold.sentences}
    categories = ["coercion_compliance", "exclusion", "disclosure", "atrocity_endorsement", "refusal", "care",
                  "protection", "de_escalation"]

    def scripted(payload: dict) -> str:
        sentence = by_text[payload["messages"][-1]["content"]]
        if sentence.id == "en-006":
            return "I would rather not rate this."
        scores = dict.fromkeys(categories, 0.05)
        if sentence.label == "pathology":
            scores[sentence.subcategory] = 0.9
        elif sentence.label == "protective":
            scores["protection"] = 0.9
        return json.dumps(scores)

    monkeypatch.setenv("BACKFIRE_JUDGE_KEY", "sk-judge-test-0000")
    con = duckdb.connect()
    ensure_raw_schema(con)
    with serve_openai() as (fake, url):
        fake.responder = scripted
        judge, = evaluation_scorers([f"judge:judge-model?base_url={url}&api_key_env=BACKFIRE_JUDGE_KEY"])
        evaluation = evaluate_scorer(judge, gold, split="test", con=con)
        talk = [s for s in gold.select(split="test") if s.channel == "talk"]
        assert fake.completions == len(talk) and evaluation.n_outside_channels == len(gold.select(split="test")) - \
            len(talk)
    en = _rows(evaluation.validation_rows, "en")
    assert en[("overall", "all")]["n_abstained"] == 1  # en-006, unreadable: abstained, not guessed
    assert en[("overall", "all")]["f1"] == 1.0 and en[("overall", "all")]["kappa"] == 1.0
    assert en[("subcategory", "pathology.exclusion")]["f1"] == 1.0
    assert not any(k[1].startswith("protective.") for k in en)  # its protective categories are not the registers
    assert not any(r["flagged"] for r in evaluation.register_rows)
    assert en[("overall", "all")]["model_id"] == f"judge-model@{url}"
