"""Model-based scorers (metric v2) on a stored warehouse with tiny local models: provenance, coverage
(abstain outside it), determinism, incremental rescoring, and ``raw.utterances`` left untouched."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from core.errors import BackfireError
from scoring import build_scorer, get_scorer, score_pending
from scoring.base import Utterance
from scoring.spec import parse_scorer
from tests.test_helpers.studies import fill_warehouse

pytestmark = pytest.mark.slow  # torch, transformers, sentence-transformers


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("scored") / "w.duckdb"
    with duckdb.connect(str(path)) as con:
        fill_warehouse(con, languages=["en", "ja"], replicates=1, n_turns=2)
    return path


def _copy(warehouse: Path, tmp_path: Path) -> duckdb.DuckDBPyConnection:
    target = tmp_path / "copy.duckdb"
    target.write_bytes(warehouse.read_bytes())
    return duckdb.connect(str(target))


def _utterances_fingerprint(con: duckdb.DuckDBPyConnection) -> tuple:
    return con.execute("select count(*), sum(hash(utterance_id, text, status)) from raw.utterances").fetchone()


def _scores(con: duckdb.DuckDBPyConnection, scorer: str) -> list[tuple]:
    return con.execute("""select r.language, s.utterance_id, s.dimension, s.value, s.abstained, s.model_id,
                                 s.scorer_version
                          from raw.scores s join raw.utterances u using (utterance_id) join raw.runs r using (run_id)
                          where s.scorer = ? order by 2, 3""", [scorer]).fetchall()


def test_classifier_scores_its_languages_abstains_elsewhere_and_is_incremental(warehouse, tiny_models, tmp_path):
    con = _copy(warehouse, tmp_path)
    before = _utterances_fingerprint(con)
    scorer = build_scorer(parse_scorer(f"classifier:{tiny_models['classifier']}"))
    first = score_pending(con, scorer)
    rows = _scores(con, "classifier")
    english = [r for r in rows if r[0] == "en"]
    japanese = [r for r in rows if r[0] == "ja"]
    assert first.utterances_scored == len({r[1] for r in english}) > 0
    assert all(0.0 <= r[3] <= 1.0 and not r[4] for r in english)
    assert {r[2] for r in english} == {"pathology", "label.non-toxic", "label.toxic"}
    assert all(r[5].startswith(f"{tiny_models['classifier']}@local-") for r in english)  # provenance
    assert all(r[6].startswith("1+") for r in rows)
    assert japanese and all(r[3] is None and r[4] and r[5] == "none" for r in japanese)  # abstained, no guess
    assert {r[2] for r in japanese} == {"pathology", "label.non-toxic", "label.toxic"}
    again = score_pending(con, scorer)
    assert again.rows_written == 0 and again.utterances_scored == 0
    assert _utterances_fingerprint(con) == before


def test_model_scores_are_deterministic_across_loads(warehouse, tiny_models, tmp_path):
    values = []
    for attempt in range(2):
        folder = tmp_path / str(attempt)
        folder.mkdir()
        with _copy(warehouse, folder) as con:
            for spec in (f"classifier:{tiny_models['classifier']}", f"embedding:{tiny_models['embedding']}"):
                score_pending(con, build_scorer(parse_scorer(spec)))
            values.append(con.execute("select utterance_id, scorer, dimension, value from raw.scores "
                                      "where scorer <> 'lexicon' order by all").fetchall())
    assert values[0] == values[1] and values[0]


def test_embedding_writes_conformity_and_dissociation_on_talk_only(warehouse, tiny_models, tmp_path):
    con = _copy(warehouse, tmp_path)
    score_pending(con, build_scorer(parse_scorer(f"embedding:{tiny_models['embedding']}?batch_size=16")))
    rows = con.execute("""
        select r.language, u.channel, s.dimension, s.value, s.abstained
        from raw.scores s join raw.utterances u using (utterance_id) join raw.runs r using (run_id)
        where s.scorer = 'embedding'""").fetchall()
    assert {r[1] for r in rows} == {"talk"}
    english = [r for r in rows if r[0] == "en"]
    conformity = [r[3] for r in english if r[2] == "semantic_conformity"]
    dissociation = [r[3] for r in english if r[2] == "semantic_dissociation"]
    assert conformity and all(-1.0 - 1e-9 <= v <= 1.0 + 1e-9 for v in conformity)
    assert dissociation and all(-1e-9 <= v <= 2.0 + 1e-9 for v in dissociation)
    assert all(r[4] and r[3] is None for r in rows if r[0] == "ja")
    talk = con.execute("select count(*) from raw.utterances where channel = 'talk'").fetchone()[0]
    assert len(rows) == 2 * talk


def test_zero_shot_asks_native_hypotheses_and_takes_the_group_maximum(tiny_models):
    scorer = get_scorer("zero-shot", model=str(tiny_models["nli"]))
    values = scorer.score_batch([Utterance("a", "ja", "talk", "私たちは彼を守るべきだと思う。"),
                                 Utterance("b", "th", "talk", "เราควรฟังเขา")])
    assert values[1] is None  # Thai is outside the model's declared languages
    scored = values[0]
    assert scored is not None
    assert scored["pathology"] == max(scored[f"category.{c}"] for c in
                                      ("coercion_compliance", "exclusion", "disclosure", "atrocity_endorsement"))
    assert all(0.0 <= v <= 1.0 for v in scored.values())


def test_langid_measures_language_fidelity() -> None:
    scorer = get_scorer("langid")
    english, drifted = scorer.score_batch([
        Utterance("a", "en", "talk", "We should listen to him before anyone decides anything."),
        Utterance("b", "ja", "talk", "We should listen to him before anyone decides anything.")])
    assert english["in_language"] == 1.0 and english["detected.en"] == english["confidence"]
    assert drifted["in_language"] == 0.0 and "detected.en" in drifted


def test_spec_errors_name_the_fix(tiny_models) -> None:
    with pytest.raises(BackfireError, match="needs a model"):
        parse_scorer("classifier")
    with pytest.raises(BackfireError, match="langid, classifier, zero-shot, embedding"):
        parse_scorer("toxicity:/x")
    with pytest.raises(BackfireError, match="languages=en"):
        build_scorer(parse_scorer(f"classifier:{tiny_models['unlabelled']}?labels=LABEL_1:pathology"))
    with pytest.raises(BackfireError, match="which of the labels"):
        build_scorer(parse_scorer(f"classifier:{tiny_models['unlabelled']}?languages=en"))
    with pytest.raises(BackfireError, match="cannot load classifier model"):
        build_scorer(parse_scorer("classifier:/nonexistent/model?languages=en"))
    entry = parse_scorer(f"classifier:{tiny_models['unlabelled']}?languages=en,ja&labels=LABEL_1:pathology"
                         "&batch_size=8&device=cpu")
    scorer = build_scorer(entry)
    assert scorer.languages() == frozenset({"en", "ja"}) and scorer.batch_size == 8 and scorer.device == "cpu"
