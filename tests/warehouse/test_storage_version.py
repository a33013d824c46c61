"""The warehouse opens in the DuckDB clients researchers already have (1.4 LTS, the 1.5 CLI): every writer
creates it in DuckDB's v1.4.0 storage format, and an older 'latest' file is rewritten into it."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
import yaml

from tests.conftest import REPO_ROOT, DemoRun
from warehouse.connection import DUCKDB_CONFIG, STORAGE_VERSION, connect
from warehouse.storage import readable_by_duckdb_1x, rewrite_storage, storage_version

OLD_CLIENT = "duckdb==1.4.5"
"""The DuckDB 1.x client the slow test installs into a venv of its own (1.4 is the LTS line)."""


def test_dbt_profile_creates_files_in_the_same_storage_version() -> None:
    profile = yaml.safe_load((REPO_ROOT / "models_dbt" / "profiles.yml").read_text(encoding="utf-8"))
    options = profile["alignment_backfire"]["outputs"]["local"]["config_options"]
    assert options == DUCKDB_CONFIG == {"storage_compatibility_version": STORAGE_VERSION}


def test_connect_creates_a_file_duckdb_1x_reads(tmp_path: Path) -> None:
    with connect(tmp_path / "new.duckdb") as con:
        con.execute("create table t as select 1 as a")
        assert storage_version(con) == f"{STORAGE_VERSION}+"
        assert readable_by_duckdb_1x(con)


def test_a_latest_warehouse_is_rewritten_with_its_data_and_then_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "old.duckdb"
    with duckdb.connect(str(path)) as con:  # what DuckDB 2.0 wrote before the pin
        con.execute("create schema raw; create table raw.runs as select range as run_id from range(1000)")
        con.execute("create schema staging; create view staging.v as select count(*) as n from raw.runs")
        assert not readable_by_duckdb_1x(con)
    with connect(path) as con:  # opening it keeps working, and keeps its format
        assert con.execute("select n from staging.v").fetchone() == (1000,)
        assert not readable_by_duckdb_1x(con)
    assert rewrite_storage(path) is True
    with duckdb.connect(str(path), read_only=True) as con:
        assert readable_by_duckdb_1x(con)
        assert con.execute("select n from staging.v").fetchone() == (1000,)
    assert rewrite_storage(path) is False
    assert sorted(p.name for p in tmp_path.iterdir()) == ["old.duckdb"]


def _cookbook_query(section: str) -> str:
    text = (REPO_ROOT / "docs" / "sql-cookbook.md").read_text(encoding="utf-8")
    body = text.split(f"\n## {section}", 1)[1]
    match = re.search(r"```sql\n(.*?)```", body, re.S)
    assert match, f"no SQL block in cookbook section {section!r}"
    return match.group(1)


@pytest.fixture(scope="session")
def duckdb_1x_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A venv of its own with the DuckDB 1.4 Python client (the package registry is reachable in CI)."""
    venv = tmp_path_factory.mktemp("duckdb14") / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    done = subprocess.run([str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", OLD_CLIENT],
                          capture_output=True, text=True)
    if done.returncode != 0:
        pytest.fail(f"could not install {OLD_CLIENT}: {done.stderr[-2000:]}")
    return python


@pytest.mark.slow
@pytest.mark.integration
@pytest.mark.xdist_group("demo")
def test_duckdb_14_opens_the_demo_warehouse_and_runs_a_cookbook_query(demo_run: DemoRun,
                                                                       duckdb_1x_python: Path) -> None:
    assert demo_run.success, demo_run.failures
    script = ("import duckdb, json, sys\n"
              "con = duckdb.connect(sys.argv[1], read_only=True)\n"
              "rows = con.execute(sys.argv[2]).fetchall()\n"
              "print(json.dumps({'version': duckdb.__version__, 'rows': len(rows), 'languages': "
              "sorted(r[0] for r in rows)}))\n")
    done = subprocess.run([str(duckdb_1x_python), "-c", script, str(demo_run.db_path),
                           _cookbook_query("1. Backfire table of a study")], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    answer = json.loads(done.stdout)
    assert answer["version"].startswith("1.4.")
    assert answer["languages"] == ["de", "en", "ja", "ko"]  # studies/demo.yaml's languages, one model
