"""A bundle that is incomplete, tampered with, of a newer layout, or names a study the warehouse holds with
another configuration is refused with an error naming the problem and its fix, and nothing is written.
The bundle comes from a small warehouse written by the stage functions (no dbt: these tests need no marts)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import pytest

from bundle import ExportOptions, export_study, import_bundle
from bundle.layout import BUNDLE_SCHEMA_VERSION, MANIFEST, table_path
from core.errors import BundleError
from tests.test_helpers.studies import small_study_dict

pytestmark = pytest.mark.slow  # the module's warehouse is played and scored once (a few seconds)
STUDY = "bundled"


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A warehouse with one small synthetic study, designed, played and scored by the lexicon."""
    from core.study import parse_study
    from scoring import get_scorer, score_pending
    from simulation.stages import record_content, record_design, simulate_study
    from warehouse.connection import connect
    from warehouse.schema import ensure_raw_schema

    path = tmp_path_factory.mktemp("bundle_source") / "source.duckdb"
    study = parse_study({**small_study_dict(n_agents=4, n_turns=2), "name": STUDY}, "test")
    with connect(path) as con:
        ensure_raw_schema(con)
        record_content(con, study)
        record_design(con, study)
        simulate_study(con, study)
        score_pending(con, get_scorer("lexicon"))
    return path


@pytest.fixture(scope="module")
def bundle(source: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("bundle") / "b"
    with duckdb.connect(str(source), read_only=True) as con:
        export_study(con, STUDY, out)
    return out


@pytest.fixture
def copy(bundle: Path, tmp_path: Path) -> Path:
    target = tmp_path / "copy"
    shutil.copytree(bundle, target)
    return target


def _refused(root: Path, db: Path) -> str:
    with pytest.raises(BundleError) as caught:
        import_bundle(root, db)
    assert not db.exists(), "a refused import must not create the warehouse"
    return str(caught.value)


def test_a_missing_file_is_named_and_nothing_is_written(copy: Path, tmp_path: Path) -> None:
    (copy / table_path("raw", "scores")).unlink()
    message = _refused(copy, tmp_path / "new.duckdb")
    assert "raw_scores.parquet" in message and "missing" in message and "Fix: copy the whole bundle" in message


def test_a_changed_file_is_named_by_its_hash(copy: Path, tmp_path: Path) -> None:
    lexicon = copy / "packs" / "en" / "lexicon.yaml"
    lexicon.write_text(lexicon.read_text(encoding="utf-8").replace("I will obey", "I shall obey", 1),
                       encoding="utf-8")
    message = _refused(copy, tmp_path / "new.duckdb")
    assert "packs/en/lexicon.yaml" in message and "SHA-256 differs" in message


def test_a_bundle_without_manifest_or_of_a_newer_layout_is_refused(copy: Path, tmp_path: Path) -> None:
    manifest = json.loads((copy / MANIFEST).read_text(encoding="utf-8"))
    manifest["bundle_schema_version"] = BUNDLE_SCHEMA_VERSION + 1
    (copy / MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
    message = _refused(copy, tmp_path / "new.duckdb")
    assert f"layout version {BUNDLE_SCHEMA_VERSION + 1}, newer than this backfire reads" in message
    assert "Fix: upgrade alignment-backfire" in message
    (copy / MANIFEST).unlink()
    assert "has no manifest.json" in _refused(copy, tmp_path / "new.duckdb")


def test_import_is_idempotent_and_refuses_a_study_of_that_name_with_other_content(bundle: Path,
                                                                                  tmp_path: Path) -> None:
    db = tmp_path / "target.duckdb"
    first = import_bundle(bundle, db)
    assert first.added == first.bundle_rows and first.added["runs"] == 8 and first.added["scores"] > 0
    second = import_bundle(bundle, db)
    assert second.total_added == 0
    with duckdb.connect(str(db)) as con:
        con.execute("update raw.studies set config_hash = 'another' where study = ?", [STUDY])
        counts = con.execute("select count(*) from raw.utterances").fetchone()
    with pytest.raises(BundleError) as caught:
        import_bundle(bundle, db)
    assert f"already holds a study named '{STUDY}' with a different configuration" in str(caught.value)
    assert "Fix: import into another warehouse (--db NEW.duckdb)" in str(caught.value)
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("select count(*) from raw.utterances").fetchone() == counts


def test_no_text_blanks_the_text_and_keeps_every_score(source: Path, bundle: Path, tmp_path: Path) -> None:
    out = tmp_path / "no_text"
    with duckdb.connect(str(source), read_only=True) as con:
        viewer = lambda _con, folder: (folder / "index.html").write_text("text")  # noqa: E731
        manifest = export_study(con, STUDY, out, ExportOptions(include_text=False), viewer_writer=viewer)
        with pytest.raises(BundleError, match="contradict each other"):
            export_study(con, STUDY, tmp_path / "both", ExportOptions(with_cache=True, include_text=False))
        texts = con.execute(f"select count(*) filter (where text <> '') from '{out / table_path('raw', 'utterances')}'"
                            ).fetchone()
        scores = con.execute(f"select count(*) from '{out / table_path('raw', 'scores')}'").fetchone()
        full = con.execute(f"select count(*) from '{bundle / table_path('raw', 'scores')}'").fetchone()
    assert texts == (0,) and scores == full and scores[0] > 0  # type: ignore[index]
    assert manifest["options"] == {"with_cache": False, "text_included": False}
    assert "Text removed (`--no-text`)" in (out / "README.md").read_text(encoding="utf-8")
    assert not (out / "viewer").exists()  # the transcript viewer would show the text: never bundled without it


def test_an_unknown_study_or_a_non_empty_folder_is_refused(source: Path, bundle: Path) -> None:
    with duckdb.connect(str(source), read_only=True) as con:
        with pytest.raises(BundleError, match=f"no study 'nope' in the warehouse. Fix: use one of {STUDY}"):
            export_study(con, "nope", bundle.parent / "other")
        with pytest.raises(BundleError, match="the output folder is not empty"):
            export_study(con, STUDY, bundle)
