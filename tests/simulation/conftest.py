"""Fixtures of the simulation tests: the lease tables endpoint permits are tested against."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest

POSTGRES_URL_ENV = "BACKFIRE_TEST_POSTGRES_URL"
"""Set to a PostgreSQL URL (e.g. postgresql+psycopg://postgres@127.0.0.1:5432/postgres) to run the permit tests
against it as well; without it they run on SQLite only."""


@pytest.fixture(params=["sqlite", "postgresql"])
def permits_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A lease-table URL: a fresh SQLite file, or the PostgreSQL database ``BACKFIRE_TEST_POSTGRES_URL`` names."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/permits.sqlite"
    url = os.environ.get(POSTGRES_URL_ENV)
    if not url:
        pytest.skip(f"{POSTGRES_URL_ENV} is not set")
    return url


@pytest.fixture
def endpoint() -> str:
    """An endpoint key of this test alone (a PostgreSQL lease table outlives the test)."""
    return f"endpoint-{uuid.uuid4().hex[:12]}"
