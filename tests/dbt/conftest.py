"""One warehouse with built marts for every tests/dbt module: several studies, each module reading its own.
Session fixtures live per xdist worker, so the modules that read it share the ``dbt_warehouse`` group."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.test_helpers.env import preserved_environ
from tests.test_helpers.warehouses import build_dbt_test_warehouse


@pytest.fixture(scope="session")
def dbt_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Read only: a test that writes works on ``copy_warehouse(dbt_warehouse, tmp_path)``."""
    with preserved_environ():
        return build_dbt_test_warehouse(tmp_path_factory.mktemp("dbt_warehouse") / "warehouse.duckdb")
