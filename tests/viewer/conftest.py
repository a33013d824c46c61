"""The viewer tests' shared warehouse (en, ja, ar; built once per session and xdist worker: tests that use it
share ``xdist_group("viewer")``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest


@dataclass(frozen=True)
class ViewerWarehouse:
    path: Path
    runs: dict[str, str]
    """The run ids the tests open: ``en``, ``ja``, ``ar``, and ``failed`` (holds the odd replies)."""


@pytest.fixture(scope="session")
def viewer_warehouse(tmp_path_factory: pytest.TempPathFactory) -> ViewerWarehouse:
    """Read only: a test that writes works on ``copy_warehouse(viewer_warehouse.path, tmp_path)``."""
    from tests.test_helpers.viewer_warehouse import build_viewer_warehouse

    path = tmp_path_factory.mktemp("viewer") / "viewer.duckdb"
    return ViewerWarehouse(path, build_viewer_warehouse(path))
