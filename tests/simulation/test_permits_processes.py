"""Two OS processes calling one endpoint through the openai backend, each with the endpoint's whole limit:
with a shared lease table (SqlPermits on one SQLite file) the server never sees more than the limit at once,
and both finish; alone, one process still reaches the limit (the lease is work-conserving)."""

from __future__ import annotations

import asyncio
import multiprocessing
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.test_helpers.openai_server import FakeOpenAI, serve_openai
from tests.test_helpers.permit_worker import drive_calls, worker

pytest.importorskip("aiohttp")
LIMIT = 8
CALLS = 96


@pytest.fixture
def server() -> Iterator[tuple[FakeOpenAI, str]]:
    with serve_openai() as (fake, url):
        fake.delay_s = 0.1  # long enough for calls to overlap
        yield fake, url


def _two_processes(url: str, permits_url: str | None) -> list[dict[str, int]]:
    context = multiprocessing.get_context("spawn")
    barrier, results = context.Barrier(2), context.Queue()
    processes = [context.Process(target=worker, args=(url, permits_url, CALLS, LIMIT, barrier, results))
                 for _ in range(2)]
    for process in processes:
        process.start()
    try:
        outcomes = [results.get(timeout=90) for _ in processes]
    finally:
        for process in processes:
            process.join(timeout=10)
            if process.is_alive():
                process.kill()
    assert all(process.exitcode == 0 for process in processes)
    return outcomes


@pytest.mark.integration
def test_two_processes_share_the_endpoint_limit(server: tuple[FakeOpenAI, str], permits_url: str) -> None:
    fake, url = server
    outcomes = _two_processes(url, permits_url)
    assert [o["ok"] for o in outcomes] == [CALLS, CALLS]  # both finish
    assert fake.max_in_flight == LIMIT, fake.max_in_flight  # never more; and together they fill it
    assert min(o["min_capacity"] for o in outcomes) < LIMIT  # they did share: someone got less than all


@pytest.mark.integration
def test_without_a_lease_table_two_processes_overshoot_the_limit(server: tuple[FakeOpenAI, str]) -> None:
    """The control: local permits give each process the whole limit, so together they exceed it."""
    fake, url = server
    outcomes = _two_processes(url, None)
    assert [o["ok"] for o in outcomes] == [CALLS, CALLS]
    assert fake.max_in_flight > LIMIT


@pytest.mark.integration
def test_one_process_alone_reaches_the_limit(server: tuple[FakeOpenAI, str], permits_url: str) -> None:
    fake, url = server
    outcome = asyncio.run(drive_calls(url, permits_url, CALLS, LIMIT))
    assert outcome["ok"] == CALLS
    assert fake.max_in_flight == LIMIT and outcome["max_in_flight"] == LIMIT


class RecordingPermits:
    """Leases from another source, recording each (endpoint key, limit) the engine asks for."""

    def __init__(self, inner: object) -> None:
        self.inner = inner
        self.leases: list[tuple[str, int]] = []

    def lease(self, key: str, limit: int, limiter: object) -> object:
        self.leases.append((key, limit))
        return self.inner.lease(key, limit, limiter)  # type: ignore[attr-defined]


@pytest.mark.integration
def test_simulate_leases_once_per_endpoint_and_requested_model(server: tuple[FakeOpenAI, str], tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """Two study models asking one endpoint for the same model share one lease (the smaller limit); the
    synthetic model takes none; the lease rows are gone when the simulation ends."""
    import duckdb

    from core.study import parse_study
    from simulation.backends.openai_compatible import OpenAICompatibleBackend
    from simulation.engine import endpoint_key
    from simulation.limits import SqlPermits
    from simulation.stages import record_design, simulate_study
    from tests.test_helpers.studies import small_study_dict
    from warehouse.schema import ensure_raw_schema

    fake, url = server
    data = small_study_dict(languages=["en"], replicates=1, aligned_shares=[0.0, 1.0], n_turns=2)
    data["models"] = [{"name": "chat-a", "snapshot": "tiny-chat", "backend": "openai", "base_url": url,
                       "max_concurrency": 4},
                      {"name": "chat-b", "snapshot": "tiny-chat", "backend": "openai", "base_url": url,
                       "max_concurrency": 6, "temperature": 0.2},
                      *data["models"]]
    con = duckdb.connect()
    ensure_raw_schema(con)
    study = parse_study(data, "s")
    record_design(con, study)
    permits_url = f"sqlite:///{tmp_path}/permits.sqlite"
    monkeypatch.setenv("BACKFIRE_PERMITS_URL", permits_url)  # ignored: an explicit source wins
    recording = RecordingPermits(SqlPermits(permits_url))
    stats = simulate_study(con, study, permits=recording)
    assert stats.errors == 0 and fake.completions == 2 * 2 * 10 * 2  # openai models x runs x agents x turns
    assert recording.leases == [(endpoint_key(OpenAICompatibleBackend(base_url=url), "tiny-chat"), 4)]
    assert fake.max_in_flight == 4
    assert recording.inner.ledger.holders(recording.leases[0][0]) == []
