"""Keep os.environ as it was: the pipeline exports BACKFIRE_DB and DBT_INDIRECT_SELECTION process-wide."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def preserved_environ() -> Iterator[None]:
    """Restore every variable set, changed or removed inside the block."""
    saved = dict(os.environ)
    try:
        yield
    finally:
        for key in set(os.environ) - set(saved):
            del os.environ[key]
        for key, value in saved.items():
            if os.environ.get(key) != value:
                os.environ[key] = value
