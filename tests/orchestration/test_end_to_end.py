"""The demo materialized in-process through the Dagster definitions recovers the planted effects."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from core.study import load_study
from orchestration.launch import materialize_study
from tests.conftest import DEMO_STUDY, DemoRun
from tests.test_helpers.studies import n_runs, n_utterances
from tests.test_helpers.warehouses import copy_warehouse

pytestmark = [pytest.mark.slow, pytest.mark.integration, pytest.mark.xdist_group("demo")]

TABLES = ["raw.runs", "raw.agents", "raw.utterances", "raw.scores", "marts.run_metrics", "marts.agent_metrics",
          "marts.backfire_by_language", "marts.dissociation_by_language"]


def _counts(path: Path) -> dict[str, int]:
    with duckdb.connect(str(path), read_only=True) as con:
        return {t: con.execute(f"select count(*) from {t}").fetchone()[0] for t in TABLES}  # type: ignore[index]


def test_demo_recovers_planted_directions(demo_run: DemoRun) -> None:
    assert demo_run.success, demo_run.failures
    db = demo_run.db_path
    with duckdb.connect(str(db), read_only=True) as con:
        directions = dict(con.execute("select language, direction from marts.backfire_by_language "
                                      "where study = 'demo'").fetchall())
        synthetic = con.execute("select bool_and(synthetic) from marts.run_metrics").fetchone()[0]  # type: ignore[index]
        models = [m for (m,) in con.execute("select distinct model from raw.utterances union "
                                            "select distinct model from marts.backfire_by_language").fetchall()]
        fidelity = con.execute("select min(language_fidelity) from marts.run_metrics").fetchone()[0]  # type: ignore[index]
        covered = con.execute("select bool_and(covered) from marts.scorer_coverage "
                              "where scorer in ('lexicon', 'langid')").fetchone()[0]  # type: ignore[index]
    assert directions == {"en": "reduced", "de": "reduced", "ja": "amplified", "ko": "amplified"}
    assert synthetic is True
    assert models == ["synthetic:demo"]  # a synthetic model is visibly synthetic in every table
    assert fidelity is not None and fidelity >= 0.8  # the demo study runs the langid scorer (metric v2)
    assert covered is True
    study = load_study(DEMO_STUDY)
    counts = _counts(db)
    assert counts["raw.runs"] == n_runs(study) and counts["raw.utterances"] == n_utterances(study)
    # per warehouse: <stem>.reports and <stem>.logs beside demo.duckdb, and `run` says where they went
    reports = db.parent / "demo.reports"
    report, markdown = reports / "demo" / "report.html", reports / "demo_backfire.md"
    assert report.is_file() and markdown.is_file()
    assert f"report: {report} (HTML), {markdown} (markdown)" in demo_run.stdout
    assert f"log: {db.parent / 'demo.logs' / 'last_run.log'}" in demo_run.stdout
    assert not (db.parent / "reports").exists() and not (db.parent / "logs").exists()
    assert "SYNTHETIC DATA" in demo_run.stdout and all(f"\n{lang} " in demo_run.stdout for lang in directions)


def test_demo_recovers_planted_cpi_and_di_per_language(demo_run: DemoRun) -> None:
    """Every demo language recovers its planted CPI and DI direction in the marts (within-language z, Holm-adjusted
    p; ``null`` only where the ``recovery`` block of ``synthetic_effects.yaml`` says the demo is too small), with
    Hedges' g inside the block's band on the planted side of 0; the components are there beside them."""
    from simulation.backends.synthetic import load_effects, resolve_profile

    expected = load_effects()["recovery"]
    study = load_study(DEMO_STUDY)
    assert expected["study"] == study.name and set(expected["g_band"]) == set(study.design.languages)
    with duckdb.connect(str(demo_run.db_path), read_only=True) as con:
        effects = con.execute("select * from marts.alignment_effects where study = ?", [study.name]).df()
    assert set(effects.zscore_reference) == {"language"} and set(effects.p_adjust_method) == {"holm"}
    assert {"monologue_ratio", "pathology_rate", "protective_rate"} <= set(effects.metric)
    effects = effects.set_index(["language", "metric"])
    for language, bands in expected["g_band"].items():
        profile = resolve_profile(study.models[0].name, language)
        for metric, planted in (("cpi", profile.planted_direction), ("di", profile.planted_di_direction)):
            row = effects.loc[(language, metric)]
            low, high = bands[metric]
            assert (low >= 0) if planted == "amplified" else (high <= 0)  # the band lies on the planted side
            wanted = "none" if metric in expected.get("expected_none", {}).get(language, []) else planted
            assert row.direction == wanted, (language, metric, row.to_dict())
            assert low <= row.hedges_g <= high, (language, metric, row.hedges_g, bands[metric])


def test_the_cli_demo_shows_in_the_dagster_instance_the_ui_reads(demo_run: DemoRun) -> None:
    """``make demo`` then ``make dev``: the CLI ran on the persistent instance, so its runs, every language
    partition's materializations and the blocking checks' results are what the UI lists."""
    import dagster as dg

    study = load_study(DEMO_STUDY)
    with dg.DagsterInstance.from_config(str(demo_run.dagster_home)) as instance:
        runs = instance.get_runs()
        assert sorted(r.job_name for r in runs) == sorted(
            ["study_setup_job", "marts_job", *["simulate_language_job"] * len(study.design.languages)])
        assert all(r.status == dg.DagsterRunStatus.SUCCESS for r in runs)
        utterances = instance.fetch_materializations(dg.AssetKey(["raw", "utterances"]), limit=50).records
        assert sorted(r.partition_key for r in utterances) == sorted(study.design.languages)
        effects = instance.get_latest_materialization_event(dg.AssetKey(["marts", "backfire_by_language"]))
        assert effects is not None and "forest_plot" in effects.asset_materialization.metadata
        for key, check in ((["marts", "backfire_by_language"], "backfire_by_language_contract"),
                           (["raw", "utterances"], "utterances_contract")):
            history = instance.event_log_storage.get_asset_check_execution_history(
                dg.AssetCheckKey(dg.AssetKey(key), check), limit=50)
            assert history and all(c.status.value == "SUCCEEDED" for c in history), (check, history)


def test_demo_reruns_without_duplicates(demo_run: DemoRun, tmp_path: Path) -> None:
    db = copy_warehouse(demo_run.db_path, tmp_path)
    counts = _counts(db)

    second = materialize_study(DEMO_STUDY, db=db)

    assert second.success, second.failures
    assert _counts(db) == counts
    with duckdb.connect(str(db), read_only=True) as con:
        duplicates = con.execute("select count(*) - count(distinct (run_id, turn, agent_idx, channel)) "
                                 "from raw.utterances").fetchone()[0]  # type: ignore[index]
    assert duplicates == 0
