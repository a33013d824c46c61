"""The demo study leaves the warehouse as a bundle and comes back: imported into an empty warehouse, every
mart of the study equals the source row for row (floats to 1e-12); re-run from its own study file and
packs, it reproduces exactly, and a changed lexicon entry shows in the diff."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import pytest

from bundle import compare_marts, import_bundle, read_manifest
from bundle.layout import table_path
from cli.main import main
from tests.conftest import DemoRun

pytestmark = [pytest.mark.slow, pytest.mark.integration, pytest.mark.xdist_group("demo")]


@pytest.fixture(scope="module")
def demo_bundle(demo_run: DemoRun, tmp_path_factory: pytest.TempPathFactory) -> Path:
    assert demo_run.success, demo_run.failures
    out = tmp_path_factory.mktemp("demo_bundle") / "bundle"
    assert main(["export", "demo", "--out", str(out), "--db", str(demo_run.db_path), "--viewer-runs", "8"]) == 0
    return out


@pytest.fixture(scope="module")
def imported(demo_bundle: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int]:
    """The bundle imported through the CLI into an empty warehouse (marts rebuilt by dbt), and its exit code."""
    db = tmp_path_factory.mktemp("imported") / "imported.duckdb"
    return db, main(["import", str(demo_bundle), "--db", str(db)])


def test_every_mart_of_the_study_comes_back_row_for_row(demo_run: DemoRun, demo_bundle: Path,
                                                        imported: tuple[Path, int]) -> None:
    db, code = imported
    assert code == 0
    manifest = read_manifest(demo_bundle)
    with duckdb.connect(str(db), read_only=True) as con:
        diffs = compare_marts(con, demo_bundle, manifest)
    assert {d.table for d in diffs} >= {"marts.run_metrics", "marts.agent_metrics", "marts.backfire_by_language",
                                        "marts.stats_models", "marts.replication_scorecard"}
    assert [d.describe() for d in diffs if not d.equal] == []
    with duckdb.connect(str(db), read_only=True) as con, duckdb.connect(str(demo_run.db_path), read_only=True) as src:
        # and the bundle's marts are the source's: the comparison is against the warehouse it came from
        query = "select count(*), sum(cpi), sum(di) from marts.run_metrics where study = 'demo'"
        assert con.execute(query).fetchone() == pytest.approx(src.execute(query).fetchone(), rel=1e-12)
    assert import_bundle(demo_bundle, db).total_added == 0  # a second import adds nothing


def test_manifest_lists_provenance_and_every_file_with_its_hash(demo_bundle: Path) -> None:
    manifest = read_manifest(demo_bundle)
    assert manifest["study"] == "demo" and manifest["code"]["version"]
    assert manifest["packages"]["duckdb"].startswith("2.") and manifest["environment"]["python"]
    assert manifest["models"][0]["model"] == "synthetic:demo" and manifest["models"][0]["served"]
    assert manifest["metric"]["zscore_reference"] and manifest["seeds"]["study_seed"] == 20260304
    assert {c["language"] for c in manifest["content"]} == {"en", "ja", "de", "ko"}
    assert all(c["files_match_runs"] for c in manifest["content"])
    paths = {f["path"] for f in manifest["files"]}
    assert {"study.yaml", "README.md", "datapackage.json", "report/report.html", "packs/ja/lexicon.yaml",
            "config/scorers.json", table_path("raw", "utterances"), "viewer/index.html"} <= paths
    viewer_runs = [p for p in paths if p.startswith("viewer/run/") and p.endswith(".html")]
    assert len(viewer_runs) == 8  # the static viewer's pages: --viewer-runs of them, spread over the languages
    assert all(len(f["sha256"]) == 64 for f in manifest["files"])
    package = json.loads((demo_bundle / "datapackage.json").read_text(encoding="utf-8"))
    runs = next(r for r in package["resources"] if r["name"] == "raw_runs")
    assert {"name": "aligned_share", "type": "number", "duckdb_type": "DOUBLE"} in runs["schema"]["fields"]
    assert runs["rows"] == 96


def test_tables_load_with_pandas_and_duckdb(demo_bundle: Path) -> None:
    import pandas as pd

    pytest.importorskip("pyarrow")  # pandas' Parquet engine (the dev extra installs it)
    runs = pd.read_parquet(demo_bundle / "data" / "raw_runs")
    assert len(runs) == 96 and "aligned_share" in runs.columns
    effects = duckdb.sql(f"select count(*) from '{demo_bundle}/data/marts_backfire_by_language/*.parquet'")
    assert effects.fetchall() == [(4,)]


def test_tables_load_with_hugging_face_datasets(demo_bundle: Path) -> None:
    datasets = pytest.importorskip("datasets")
    loaded = datasets.load_dataset("parquet", data_dir=str(demo_bundle / "data" / "raw_runs"), split="train")
    assert loaded.num_rows == 96


def test_reproduce_replays_the_study_exactly_and_shows_a_changed_lexicon_entry(
        demo_bundle: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["reproduce", str(demo_bundle), "--work", str(tmp_path / "same")]) == 0
    out = capsys.readouterr().out
    assert "reproduced marts: all" in out and "equal to the bundle's" in out, out

    edited = tmp_path / "edited"
    shutil.copytree(demo_bundle, edited)
    lexicon = edited / "packs" / "en" / "lexicon.yaml"
    text = lexicon.read_text(encoding="utf-8")
    assert '    - "I\'ll comply"\n' in text  # said by the synthetic English agents (packs/en/pack.yaml)
    lexicon.write_text(text.replace('    - "I\'ll comply"\n', "", 1), encoding="utf-8")
    assert main(["reproduce", str(edited), "--work", str(tmp_path / "changed")]) == 2  # refused without the flag
    assert "packs/en/lexicon.yaml" in capsys.readouterr().err
    assert main(["reproduce", str(edited), "--work", str(tmp_path / "changed"), "--allow-changes"]) == 1
    out = capsys.readouterr().out
    assert "changed since export (used as it is now): packs/en/lexicon.yaml" in out
    assert "marts.run_metrics: bundle 96 rows, warehouse 96" in out and "pathology_rate" in out, out
    assert "marts.backfire_by_language:" in out, out  # the English effect moved with the lexicon
