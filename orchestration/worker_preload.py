"""What the forkserver of the CLI's language workers imports once, so that no worker pays for it: the Dagster
definitions (about 5 s of imports on two cores) and Great Expectations with its context (about 5 s more, on a
worker's first contract check)."""

import orchestration.definitions
import orchestration.launch  # noqa: F401
from data_contracts._gx import _context

_context()
