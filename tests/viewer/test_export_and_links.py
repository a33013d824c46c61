"""The static export, the CLI's errors, and the links from the report and Dagster into the viewer."""

from __future__ import annotations

import contextlib
import io
import json
import re
from pathlib import Path
from urllib.parse import urlsplit

import duckdb
import pytest

from cli.main import main


def _cli(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(args))
    return code, out.getvalue(), err.getvalue()


def test_a_missing_warehouse_gets_the_usual_error(tmp_path: Path) -> None:
    code, _, err = _cli("view", "--db", str(tmp_path / "missing.duckdb"))
    assert code == 2
    assert "missing.duckdb: no warehouse here" in err and "backfire demo" in err


def test_viewer_links_in_dagster_metadata_only_when_an_address_is_configured(monkeypatch) -> None:
    from orchestration.metadata import viewer_links

    monkeypatch.delenv("BACKFIRE_VIEW_URL", raising=False)
    assert viewer_links("study2", ["en", "ja"]) == {}
    monkeypatch.setenv("BACKFIRE_VIEW_URL", "http://viewer.lab:8765/")
    links = viewer_links("study2", ["en", "ja"])
    assert {k: v.url for k, v in links.items()} == {"view_en": "http://viewer.lab:8765/?study=study2&language=en",
                                                    "view_ja": "http://viewer.lab:8765/?study=study2&language=ja"}




@pytest.mark.slow
@pytest.mark.integration
@pytest.mark.xdist_group("viewer")
def test_the_static_export_holds_the_selected_runs_as_html_and_json(viewer_warehouse, tmp_path: Path) -> None:
    bundle = tmp_path / "bundle"
    code, out, _ = _cli("view", "--db", str(viewer_warehouse.path), "--export", str(bundle), "--study", "small",
                        "--languages", "ja,ar", "--max-runs", "3")
    assert code == 0 and "wrote 3 runs" in out
    listed = json.loads((bundle / "data" / "runs.json").read_text(encoding="utf-8"))
    assert len(listed) == 3 and {r["language"] for r in listed} == {"ja", "ar"}
    index = (bundle / "index.html").read_text(encoding="utf-8")
    assert re.findall(r'href="run/([0-9a-f]+)\.html"', index) == [r["run_id"] for r in listed]
    assert 'href="static/viewer.css"' in index and 'data-static="1"' in index
    for run in listed:
        page = (bundle / "run" / f"{run['run_id']}.html").read_text(encoding="utf-8")
        assert 'href="../static/viewer.css"' in page and 'href="../index.html"' in page
        assert '<mark class="hit' in page
        data = json.loads((bundle / "data" / "run" / f"{run['run_id']}.json").read_text(encoding="utf-8"))
        assert data["run"]["run_id"] == run["run_id"] and len(data["utterances"]) == 60  # 10 agents x 3 x 2
        assert len(data["agents"]) == 10
    # no page asks a server for anything: every link is relative
    for page in bundle.rglob("*.html"):
        assert not re.search(r'(href|src)="/', page.read_text(encoding="utf-8")), page
    assert (bundle / "static" / "viewer.js").is_file() and (bundle / "dissociation.html").is_file()


@pytest.mark.slow
@pytest.mark.integration
@pytest.mark.xdist_group("viewer")
def test_report_rows_link_to_the_runs_the_viewer_lists_for_their_cell(viewer_warehouse, tmp_path: Path,
                                                                     monkeypatch) -> None:
    """``backfire report`` and ``backfire view`` agree on run ids: a forest row's link lists the runs whose
    metrics made the row."""
    from analysis.report.html import build_report
    from tests.viewer.test_app import get

    monkeypatch.setenv("BACKFIRE_VIEW_URL", "http://viewer.lab:9000")
    with duckdb.connect(str(viewer_warehouse.path), read_only=True) as con:
        path, _ = build_report(con, tmp_path / "report", studies=["small"])
        measured = {language: sorted(r[0] for r in con.execute(
            "select run_id from marts.run_metrics where study = 'small' and language = ?", [language]).fetchall())
            for language in ("en", "ja", "ar")}
    html = path.read_text(encoding="utf-8")
    links = sorted(set(re.findall(r"href='(http://viewer\.lab:9000/\?[^']+)'", html)))
    forest = sorted(set(re.findall(r'<a href="(http://viewer\.lab:9000/\?[^"]+)"', html)))
    assert len(links) == 3 and set(forest) >= set(links)  # one cell per language, in the table and the plot
    for link in links:
        language = re.search(r"language=(\w+)", link).group(1)  # type: ignore[union-attr]
        parts = urlsplit(link.replace("&amp;", "&"))
        ((status, page),) = get(viewer_warehouse.path, f"/?{parts.query}")
        assert status == 200
        assert sorted(re.findall(r'href="/run/([0-9a-f]+)"', page)) == measured[language]
