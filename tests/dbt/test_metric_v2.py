"""Metric v2 in the dbt project: synthetic model scores (langid, two classifiers, embedding) for the English
utterances, abstentions for the Japanese ones, against a pandas recomputation and the same warehouse without them."""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from analysis.effects import hedges_g
from tests.test_helpers import warehouses as shared
from tests.test_helpers.warehouses import CLASSIFIER_A, CLASSIFIER_B, EMBEDDING, LANGID, V2_STUDY, copy_warehouse

pytestmark = [pytest.mark.slow, pytest.mark.integration, pytest.mark.xdist_group("dbt_warehouse")]

SCORED, ABSTAINED = shared.V2_SCORED, shared.V2_ABSTAINED
IN_STUDY = f"study = '{V2_STUDY}'"
DESIGN = shared.dbt_test_design(V2_STUDY)
V1_COLUMNS = ["run_id", "monologue_ratio", "pathology_rate", "protective_rate", "conformity_share", "cpi", "di",
              "n_replies", "n_errors"]
V2_COLUMNS = ["pathology_prob", "protective_prob", "cpi_v2", "di_v2", "semantic_conformity", "semantic_dissociation",
              "language_fidelity"]


@pytest.fixture(scope="module")
def built(dbt_warehouse: Path) -> Path:
    """V2_STUDY has synthetic model scores (langid, two classifiers, embedding) for its English utterances and
    abstentions for its Japanese ones (tests.test_helpers.warehouses.add_model_scores)."""
    return dbt_warehouse


@pytest.fixture(scope="module")
def lexicon_only(built: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same warehouse without the model scores, its marts rebuilt."""
    path = copy_warehouse(built, tmp_path_factory.mktemp("v1"))
    with duckdb.connect(str(path)) as con:
        con.execute("delete from raw.scores where scorer <> 'lexicon'")
    shared.run_models(path)
    return path


def query(path: Path, sql: str) -> pd.DataFrame:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.sql(sql).df()


def expected_run_means(path: Path) -> pd.DataFrame:
    """Per run: v2 means recomputed from raw.scores (mean per model, then over models; errors excluded)."""
    scores = query(path, """
        select u.run_id, u.utterance_id, u.channel, s.scorer, s.model_id, s.dimension, s.value
        from raw.scores s join raw.utterances u using (utterance_id)
        where not s.abstained and u.status <> 'error' and s.scorer <> 'lexicon'""")
    per_utterance = (scores.groupby(["run_id", "utterance_id", "channel", "scorer", "dimension"])["value"].mean()
                     .unstack(["scorer", "dimension"]))
    talk = per_utterance.xs("talk", level="channel")
    return pd.DataFrame({
        "pathology_prob": talk[("classifier", "pathology")].groupby("run_id").mean(),
        "protective_prob": talk[("classifier", "protective")].groupby("run_id").mean(),
        "semantic_conformity": talk[("embedding", "semantic_conformity")].groupby("run_id").mean(),
        "semantic_dissociation": talk[("embedding", "semantic_dissociation")].groupby("run_id").mean(),
        "language_fidelity": per_utterance[("langid", "in_language")].groupby("run_id").mean(),
    })


def test_v2_columns_are_filled_for_the_scored_language_only(built: Path) -> None:
    for mart in ("run_metrics", "agent_metrics"):
        frame = query(built, f"select language, {', '.join(V2_COLUMNS)} from marts.{mart} where {IN_STUDY}")
        scored, abstained = frame[frame.language == SCORED], frame[frame.language == ABSTAINED]
        assert len(scored) and len(abstained)
        assert scored[V2_COLUMNS].notna().all().all(), mart
        assert abstained[V2_COLUMNS].isna().all().all(), mart


def test_run_means_match_a_recomputation_from_raw_scores(built: Path) -> None:
    mart = query(built, f"select run_id, {', '.join(V2_COLUMNS)} from marts.run_metrics "
                        f"where {IN_STUDY} and language = '{SCORED}'")
    expected = expected_run_means(built)
    frame = mart.set_index("run_id").join(expected.add_suffix("_expected"))
    assert len(frame) == len(DESIGN["aligned_shares"]) * DESIGN["replicates"]
    for column in expected.columns:
        np.testing.assert_allclose(frame[column], frame[f"{column}_expected"], atol=1e-12, err_msg=column)
    # the classifier's two models are averaged: the mean differs from model A's alone
    model_a = query(built, f"""
        select u.run_id, avg(s.value) as a from raw.scores s join raw.utterances u using (utterance_id)
        where s.scorer_version = '{CLASSIFIER_A[0]}' and s.dimension = 'pathology' and u.channel = 'talk'
            and u.status <> 'error' and not s.abstained group by 1""").set_index("run_id")["a"]
    assert not np.allclose(frame["pathology_prob"], model_a.loc[frame.index])


def test_composite_indices_v2_follow_the_formula(built: Path) -> None:
    runs = query(built, f"select * from marts.run_metrics where {IN_STUDY}")
    scored = runs[runs.cpi_v2.notna()]
    assert set(scored.language) == {SCORED}  # one population (zscore_reference study); v2 over its scored runs

    def z(column: pd.Series) -> pd.Series:
        return (column - column.mean()) / column.std(ddof=1)

    zm, zp, zq = z(scored.monologue_ratio), z(scored.pathology_prob), z(scored.protective_prob)
    np.testing.assert_allclose(scored.cpi_v2, zm + zp - zq, atol=1e-9)
    np.testing.assert_allclose(scored.di_v2, zm + zq - zp, atol=1e-9)

    agents = query(built, f"select language, cpi_v2, di_v2 from marts.agent_metrics where {IN_STUDY}")
    assert agents[agents.language == SCORED].cpi_v2.mean() == pytest.approx(0, abs=1e-9)
    assert agents[agents.language == SCORED].di_v2.mean() == pytest.approx(0, abs=1e-9)


@pytest.mark.parametrize(("mart", "metric"), [("backfire_by_language_v2", "cpi_v2"),
                                              ("dissociation_by_language_v2", "di_v2")])
def test_v2_effect_tables_have_the_scored_language_only(built: Path, mart: str, metric: str) -> None:
    table = query(built, f"select * from marts.{mart}")
    assert list(table.study) == [V2_STUDY] and list(table.language) == [SCORED]
    row = table.iloc[0]
    runs = query(built, f"select aligned_share, {metric} as y from marts.run_metrics "
                        f"where {IN_STUDY} and language = '{SCORED}'")
    expected = hedges_g(list(runs[runs.aligned_share == 1.0].y), list(runs[runs.aligned_share == 0.0].y))
    assert (row.n_low, row.n_high, row.metric_spec) == (DESIGN["replicates"], DESIGN["replicates"], "v2")
    assert row[f"mean_{metric}_low"] == pytest.approx(runs[runs.aligned_share == 0.0].y.mean(), abs=1e-12)
    assert row.hedges_g == pytest.approx(expected.hedges_g, abs=1e-9)
    assert (row.g_ci_low, row.g_ci_high) == pytest.approx((expected.ci_low, expected.ci_high), abs=1e-9)


def test_scorer_coverage_counts_utterances(built: Path) -> None:
    coverage = query(built, "select * from marts.scorer_coverage")  # over every study: it has no study column
    counts = query(built, f"""select r.language, u.channel, count(*) as n from raw.utterances u
                              join raw.runs r using (run_id) where r.{IN_STUDY} group by all""").set_index(
        ["language", "channel"])["n"]
    languages = set(query(built, "select distinct language from raw.runs").language)
    both = {lang: counts[lang, "talk"] + counts[lang, "monologue"] for lang in (SCORED, ABSTAINED)}
    talk = {lang: counts[lang, "talk"] for lang in (SCORED, ABSTAINED)}
    expected = [("langid", LANGID, both), ("classifier", CLASSIFIER_A, both), ("classifier", CLASSIFIER_B, both),
                ("embedding", EMBEDDING, talk)]
    rows = {(r.scorer, r.scorer_version, r.language): r for r in coverage.itertuples()}
    for scorer, (version, model_id), n in expected:
        scored, abstained = rows[scorer, version, SCORED], rows[scorer, version, ABSTAINED]
        assert (scored.model_id, scored.covered, scored.n_scored, scored.n_abstained) == (model_id, True, n[SCORED], 0)
        assert (abstained.model_id, abstained.covered, abstained.n_scored, abstained.n_abstained) == (
            "none", False, 0, n[ABSTAINED])
    lexicon = coverage[coverage.scorer == "lexicon"].set_index("language")
    assert lexicon.covered.all() and set(lexicon.index) == languages
    # one row per scorer version and language: 4 model-scorer versions x V2_STUDY's 2 languages, the lexicon's
    # version x every language of the warehouse
    assert len(coverage) == len(expected) * 2 + len(languages)


def test_v1_columns_are_unchanged_by_model_scores(built: Path, lexicon_only: Path) -> None:
    with_v2 = query(built, f"select {', '.join(V1_COLUMNS)} from marts.run_metrics order by run_id")
    without = query(lexicon_only, f"select {', '.join(V1_COLUMNS + V2_COLUMNS)} from marts.run_metrics "
                                  "order by run_id")
    pd.testing.assert_frame_equal(with_v2, without[V1_COLUMNS])
    assert without[V2_COLUMNS].isna().all().all()
    assert query(lexicon_only, "select count(*) as n from marts.backfire_by_language_v2").n[0] == 0
    v1_effects = (f"select language, hedges_g, g_ci_low, g_ci_high, direction from marts.backfire_by_language "
                  f"where {IN_STUDY} order by 1")
    pd.testing.assert_frame_equal(query(built, v1_effects), query(lexicon_only, v1_effects))
