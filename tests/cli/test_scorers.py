"""``backfire scorers evaluate`` on a warehouse with lexicon scores: one Dagster run evaluates the lexicon on the
gold test fixture, fills marts.scorer_validation and scorer_register_errors (their dbt tests pass), flags
scorer_coverage where the lexicon ran on a language it never validated, and the report shows the section."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from cli.main import main
from tests.test_helpers.studies import fill_warehouse

pytestmark = [pytest.mark.slow, pytest.mark.integration]
FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "gold"


def test_scorers_evaluate_fills_the_marts_flags_coverage_and_reports(tmp_path: Path, capsys,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    import dagster as dg

    from analysis.report.validation import validation_section

    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster_home"))
    monkeypatch.delenv("BACKFIRE_INSTANCE", raising=False)
    db = tmp_path / "w.duckdb"
    with duckdb.connect(str(db)) as con:
        fill_warehouse(con, languages=["en", "ja", "de"], replicates=1, n_turns=2)
    monkeypatch.chdir(tmp_path)  # run from outside the project: the default study is only the dbt label
    code = main(["scorers", "evaluate", "--gold", str(FIXTURE), "--db", str(db)])
    captured = capsys.readouterr()
    assert code == 0, captured.err  # ja's F1 is low: a finding, not an error
    assert "lexicon v1" in captured.out and "warning: F1 < 0.7 in ja" in captured.out
    assert "differential error" in captured.out and "> 0.1" in captured.out
    with dg.DagsterInstance.from_config(str(tmp_path / "dagster_home")) as instance:
        runs = instance.get_runs()
        assert [r.job_name for r in runs] == ["scorer_validation_job"]
        event = instance.get_latest_materialization_event(dg.AssetKey(["raw", "scorer_validation"]))
        metadata = event.asset_materialization.metadata
        # the default scorers are both lexicons (v1 and v1.1): ja is under 0.7 with each
        assert metadata["languages_below_f1_warning"].value == 2 and "F1 < 0.7" in metadata["f1_by_language"].value
        assert instance.get_latest_materialization_event(dg.AssetKey(["marts", "scorer_coverage"])) is not None
        mart = instance.get_latest_materialization_event(dg.AssetKey(["marts", "scorer_validation"]))
        assert mart.asset_materialization.metadata["languages_below_f1_warning"].value == 2
    with duckdb.connect(str(db), read_only=True) as con:
        f1 = dict(con.execute("select language, f1 from marts.scorer_validation where breakdown = 'overall' "
                              "and scorer = 'lexicon' and split = 'test' and is_latest").fetchall())
        flags = dict(con.execute("select language, validation_flag from marts.scorer_coverage "
                                 "where scorer = 'lexicon'").fetchall())
        flagged = dict(con.execute("select language, flagged from marts.scorer_register_errors "
                                   "where scorer = 'lexicon'").fetchall())
        section = validation_section(con)
    assert f1["en"] == pytest.approx(0.9) and f1["ja"] < 0.7
    assert flags == {"en": "validated", "ja": "f1_below_threshold", "de": "not_validated"}
    assert flagged == {"en": True, "ja": True, "all": True}
    assert "<h2>Scorer validation</h2>" in section and "Warning: F1 below 0.7 in ja" in section
    assert "Flagged in en, ja, all" in section
