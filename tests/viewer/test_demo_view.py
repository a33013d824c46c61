"""``make demo``, then ``backfire view``: the viewer lists the demo's runs and opens each language's first one."""

from __future__ import annotations

import re

import duckdb
import pytest

from tests.viewer.test_app import get

pytestmark = [pytest.mark.slow, pytest.mark.integration, pytest.mark.xdist_group("demo")]


def test_the_viewer_shows_the_demos_runs(demo_run) -> None:
    assert demo_run.success, demo_run.failures
    with duckdb.connect(str(demo_run.db_path), read_only=True) as con:
        stored = {language: run_id for language, run_id in con.execute(
            "select language, min(run_id) from raw.runs group by 1").fetchall()}
        n_runs = con.execute("select count(*) from raw.runs").fetchone()[0]  # type: ignore[index]
    (status, listing), *pages = get(demo_run.db_path, "/", *(f"/run/{run_id}" for run_id in stored.values()))
    assert status == 200 and len(re.findall(r'href="/run/[0-9a-f]+"', listing)) == n_runs == 96
    assert set(re.findall(r'data-language="(\w+)"', listing)) == set(stored) == {"en", "ja", "de", "ko"}
    for status, page in pages:
        assert status == 200 and page.count('<section class="turn"') == 15 and '<mark class="hit' in page
