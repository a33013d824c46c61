"""``backfire view``'s pages, served by its aiohttp app on 127.0.0.1 over the shared en/ja/ar warehouse."""

from __future__ import annotations

import asyncio
import hashlib
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.test_helpers.viewer_warehouse import STATUSES
from tests.test_helpers.warehouses import copy_warehouse

pytestmark = [pytest.mark.slow, pytest.mark.integration, pytest.mark.xdist_group("viewer")]


def get(db: Path, *paths: str) -> list[tuple[int, str]]:
    """Each path's status and body, from the app on a real 127.0.0.1 socket."""
    from aiohttp.test_utils import TestClient, TestServer

    from viewer.app import create_app

    async def fetch() -> list[tuple[int, str]]:
        async with TestClient(TestServer(create_app(db), host="127.0.0.1")) as client:
            answers = []
            for path in paths:
                response = await client.get(path)
                answers.append((response.status, await response.text()))
            return answers

    return asyncio.run(fetch())


def _run_ids(html: str) -> list[str]:
    return re.findall(r'href="/run/([0-9a-f]+)"', html)


def _languages(html: str) -> set[str]:
    return set(re.findall(r'data-language="(\w+)"', html))


def test_the_runs_list_filters_sorts_and_shows_metrics_and_pack_version(viewer_warehouse) -> None:
    (status, everything), (_, ja), (_, by_di), (_, failed), (_, none) = get(
        viewer_warehouse.path, "/", "/?language=ja", "/?sort=di&order=asc", "/?status=any",
        "/?language=ja&aligned_share=0.5")
    assert status == 200
    assert _languages(everything) == {"en", "ja", "ar"} and len(_run_ids(everything)) == 12
    assert _languages(ja) == {"ja"} and len(_run_ids(ja)) == 4
    assert "2.1.0" in ja  # the ja pack's version
    di = [float(v) for v in re.findall(r'data-col="di" data-value="([^"]*)"', by_di) if v]
    assert len(di) == 12 and di == sorted(di)
    assert _run_ids(failed) == [viewer_warehouse.runs["failed"]]
    assert "No run matches" in none


def test_a_run_page_shows_turns_agents_hits_and_marks(viewer_warehouse) -> None:
    ((status, html),) = get(viewer_warehouse.path, f"/run/{viewer_warehouse.runs['en']}")
    assert status == 200
    assert html.count('<section class="turn"') == 3
    assert html.count('class="who"') == 30  # 10 agents x 3 turns
    assert "Welcome to the facility" in html  # the event text of turn 1
    assert html.count('<span class="badge aligned">aligned</span>') >= 10
    assert re.search(r'<mark class="hit pathology" data-cat="pathology\.\w+"', html)
    assert re.search(r'<mark class="hit protective" data-cat="(conformity|individuation|protective\.general)"', html)
    assert 'data-cat="target"' in html
    assert "<svg class=\"chart\"" in html
    assert "compare with ja" in html and "compare with ar" in html


def test_model_text_is_escaped_never_run(viewer_warehouse) -> None:
    ((_, html),) = get(viewer_warehouse.path, f"/run/{viewer_warehouse.runs['en']}")
    assert "<script>document.title" not in html
    assert "&lt;script&gt;document.title = &#34;pwned&#34;&lt;/script&gt;" in html
    assert "&lt;b&gt;not&lt;/b&gt;" in html
    assert html.count("<script") == 1  # only the page's own viewer.js


def test_model_scores_show_on_hover_and_under_each_reply(viewer_warehouse) -> None:
    """Read from marts.utterance_scores: the classifier on every turn-1 talk reply, and a lexicon dimension the
    page does not count itself (pathology.negated) beside the hits it does."""
    ((_, html),) = get(viewer_warehouse.path, f"/run/{viewer_warehouse.runs['en']}")
    turn1 = html[html.index('<section class="turn" id="t1"'):html.index('<section class="turn" id="t2"')]
    assert turn1.count('title="classifier[org/toxicity@rev1].pathology: 0.731"') == 10
    assert turn1.count("<td class=\"text\">classifier[org/toxicity@rev1].pathology</td><td>0.731</td>") == 10
    assert "<td class=\"text\">lexicon.pathology.negated</td><td>1</td>" in turn1
    assert "classifier[" not in html[html.index('<section class="turn" id="t2"'):]


def test_failed_replies_show_their_status_raw_text_and_reasks(viewer_warehouse) -> None:
    ((_, html),) = get(viewer_warehouse.path, f"/run/{viewer_warehouse.runs['failed']}")
    for status in STATUSES:
        assert f'<div class="status status-{status}">{status}' in html
    assert "parse_error · 2 re-asks" in html
    assert "refused from the endpoint" in html
    assert "Replies that did not come back clean (4)" in html


def test_an_arabic_run_reads_right_to_left(viewer_warehouse) -> None:
    ((_, html),) = get(viewer_warehouse.path, f"/run/{viewer_warehouse.runs['ar']}")
    assert '<div class="grid" dir="rtl">' in html
    assert re.search(r'<div class="text" lang="ar" dir="rtl">', html)
    ((_, ja),) = get(viewer_warehouse.path, f"/run/{viewer_warehouse.runs['ja']}")
    assert '<div class="text" lang="ja" dir="ltr">' in ja


def test_unknown_run_and_page_get_a_404_with_a_link_back(viewer_warehouse) -> None:
    (run_status, run_html), (page_status, page_html) = get(viewer_warehouse.path, "/run/ffffffff", "/nowhere")
    assert run_status == 404 and "no run &#39;ffffffff&#39; in raw.runs" in run_html
    assert page_status == 404
    for html in (run_html, page_html):
        assert 'href="/">Back to the runs list</a>' in html


def test_comparison_and_dissociation_pages(viewer_warehouse) -> None:
    runs = viewer_warehouse.runs
    (_, compare), (_, examples), (_, masking_ja) = get(
        viewer_warehouse.path, f"/compare?a={runs['en']}&b={runs['ja']}", "/dissociation",
        "/dissociation?language=ja&direction=masking&aligned=true")
    assert f'src="/run/{runs["en"]}"' in compare and f'src="/run/{runs["ja"]}"' in compare
    gaps = [float(g) for g in re.findall(r'<tr data-language=.*?\n<td>(-?[0-9.]+)</td>', examples)]
    assert gaps and [abs(g) for g in gaps] == sorted((abs(g) for g in gaps), reverse=True)
    assert _languages(masking_ja) == {"ja"}
    assert 'data-aligned="false"' not in masking_ja and 'data-direction="reverse"' not in masking_ja
    assert re.search(r'href="/run/[0-9a-f]+#t\d+-a\d+"', masking_ja)


def test_the_viewer_never_writes_to_the_warehouse(viewer_warehouse, tmp_path: Path) -> None:
    db = copy_warehouse(viewer_warehouse.path, tmp_path)
    before = hashlib.sha256(db.read_bytes()).hexdigest()
    runs = viewer_warehouse.runs
    answers = get(db, "/", "/?status=failed", f"/run/{runs['en']}", f"/run/{runs['ar']}", "/dissociation",
                  f"/compare?a={runs['en']}")
    assert all(status == 200 for status, _ in answers)
    assert hashlib.sha256(db.read_bytes()).hexdigest() == before
    assert not db.with_name(db.name + ".wal").exists()


def test_a_warehouse_another_process_writes_gets_a_page_that_says_why(viewer_warehouse, tmp_path: Path) -> None:
    db = copy_warehouse(viewer_warehouse.path, tmp_path)
    writer = subprocess.Popen([sys.executable, "-c", "import duckdb, sys, time; con = duckdb.connect(sys.argv[1]); "
                               "print('open', flush=True); time.sleep(60)", str(db)], stdout=subprocess.PIPE,
                              text=True)
    try:
        assert writer.stdout is not None and writer.stdout.readline().strip() == "open"
        started = time.monotonic()
        ((status, html),) = get(db, "/")
        assert status == 503 and "Cannot read the warehouse" in html and "close other writers" in html
        assert time.monotonic() - started < 15
    finally:
        writer.kill()
        writer.wait()
