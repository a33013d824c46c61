"""``backfire score`` on a finished warehouse with tiny local models: scores v2, rebuilds the marts, and
regenerates no transcript."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from cli.main import main
from tests.test_helpers.studies import fill_warehouse

pytestmark = [pytest.mark.slow, pytest.mark.integration]


def test_score_adds_metric_v2_without_touching_transcripts(tmp_path: Path, tiny_models, capsys,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """Also: the rescore is Dagster runs on the project's persistent instance (one per language, each gated
    by the scores contract, then the marts), so it shows in the UI with its lineage."""
    import dagster as dg

    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster_home"))
    monkeypatch.delenv("BACKFIRE_INSTANCE", raising=False)
    db = tmp_path / "w.duckdb"
    with duckdb.connect(str(db)) as con:
        fill_warehouse(con, languages=["en", "ja"], replicates=2, n_turns=3)
        before = con.execute("select count(*), sum(hash(utterance_id, text)) from raw.utterances").fetchone()
    code = main(["score", "--db", str(db), "--scorer", "langid", "--scorer", "lexicon-v1.1",
                 "--scorer", f"classifier:{tiny_models['classifier']}",
                 "--scorer", f"embedding:{tiny_models['embedding']}?languages=en,ja&batch_size=32"])
    captured = capsys.readouterr()
    out = captured.out
    assert code == 0, captured.err
    assert "langid" in out and "classifier" in out and "embedding" in out and "marts rebuilt" in out
    assert "lexicon-v1.1" in out
    with dg.DagsterInstance.from_config(str(tmp_path / "dagster_home")) as instance:
        runs = instance.get_runs()
        assert sorted(r.job_name for r in runs) == ["refresh_marts_job", "rescore_job", "rescore_job"]
        assert all(r.status == dg.DagsterRunStatus.SUCCESS for r in runs)
        scored = instance.fetch_materializations(dg.AssetKey(["raw", "scores"]), limit=10).records
        assert sorted(r.partition_key for r in scored) == ["en", "ja"]
        rescore_runs = {r.run_id for r in runs if r.job_name == "rescore_job"}
        checks = instance.event_log_storage.get_asset_check_execution_history(
            dg.AssetCheckKey(dg.AssetKey(["raw", "scores"]), "scores_contract"), limit=10)
        assert sorted(c.run_id for c in checks) == sorted(rescore_runs)  # the gate ran in each language's run
        assert instance.get_latest_materialization_event(dg.AssetKey(["marts", "scorer_coverage"])) is not None
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("select count(*), sum(hash(utterance_id, text)) from raw.utterances").fetchone() == before
        coverage = {(r[0], r[1]): r[2] for r in con.execute(
            "select scorer, language, covered from marts.scorer_coverage").fetchall()}
        fidelity = con.execute("select min(language_fidelity) from marts.run_metrics").fetchone()[0]
        rows = con.execute("select count(*) from raw.scores").fetchone()
    assert coverage[("classifier", "en")] is True and coverage[("classifier", "ja")] is False
    assert coverage[("embedding", "ja")] is True and coverage[("langid", "ja")] is True
    assert coverage[("lexicon-v1.1", "en")] is True and coverage[("lexicon-v1.1", "ja")] is True
    assert fidelity is not None and 0.0 <= fidelity <= 1.0
    # a second call finds nothing left to score
    assert main(["score", "--db", str(db), "--no-marts", "--scorer", "langid"]) == 0
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("select count(*) from raw.scores").fetchone() == rows


def test_score_rejects_a_bad_spec_before_touching_the_warehouse(tmp_path: Path, capsys) -> None:
    code = main(["score", "--db", str(tmp_path / "missing.duckdb"), "--scorer", "classifier"])
    assert code == 2
    assert "needs a model" in capsys.readouterr().err
    assert not (tmp_path / "missing.duckdb").exists()
