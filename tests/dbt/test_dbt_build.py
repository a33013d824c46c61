"""The one `dbt build` of the suite: every model, data test and unit test on the shared multi-study warehouse
(a copy: the marts every other tests/dbt module reads are built by `dbt run`). The only place the suite runs the
dbt unit tests: the session sets ``DBT_EXCLUDE_RESOURCE_TYPES=unit_test`` for the pipeline runs of other tests."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import yaml

from orchestration.dbt.project import PROJECT_DIR, run_dbt
from tests.test_helpers.warehouses import copy_warehouse

pytestmark = [pytest.mark.slow, pytest.mark.integration, pytest.mark.xdist_group("dbt_warehouse")]


def _unit_test_names() -> set[str]:
    names = set()
    for path in (PROJECT_DIR / "models").rglob("*.yml"):
        names |= {test["name"] for test in yaml.safe_load(path.read_text(encoding="utf-8")).get("unit_tests", [])}
    return names


def test_dbt_build_passes_every_data_test_and_unit_test(dbt_warehouse: Path, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DBT_EXCLUDE_RESOURCE_TYPES", raising=False)  # the session skips unit tests elsewhere
    done = run_dbt(["build"], copy_warehouse(dbt_warehouse, tmp_path))
    assert done.returncode == 0, done.stdout[-4000:]
    assert "WARN=0" in done.stdout, done.stdout[-4000:]
    target = PROJECT_DIR / os.environ.get("DBT_TARGET_PATH", "target")  # an absolute path replaces the first
    results = json.loads((target / "run_results.json").read_text(encoding="utf-8"))["results"]
    statuses = {r["unique_id"]: r["status"] for r in results}
    unit_tests = {uid.rsplit(".", 1)[-1]: status for uid, status in statuses.items() if uid.startswith("unit_test.")}
    assert unit_tests == dict.fromkeys(_unit_test_names(), "pass")
    data_tests = [status for uid, status in statuses.items() if uid.startswith("test.")]
    assert data_tests and set(data_tests) == {"pass"}
