"""Throughput of the openai backend path against a local endpoint with a fixed latency.

Starts an OpenAI-compatible server in a separate process (asyncio, HTTP/1.1 keep-alive, every answer after
``--latency-ms``), then drives N calls through the same path the engine uses (``CallGate``: per-endpoint
limiter and its permit lease, from the database ``BACKFIRE_PERMITS_URL`` names when set; retry wrapper; then
the lean aiohttp path or ``AsyncOpenAI``) at each concurrency, and prints achieved calls/s against the ideal
concurrency / latency, client CPU time per call and peak RSS, plus an extrapolated Study 2 wall time.
``--engine-runs`` also drives the whole engine (prompts, parsing, cache, DuckDB writes) through a
Study-2-shaped design. The server (``_serve``) also counts what it serves, on ``GET /v1/stats``;
``bench/study_throughput.py`` reuses it for whole ``backfire run``s.

    .venv/bin/python bench/throughput.py [--latency-ms 200] [--calls 2000] [--concurrency 8 32 128]
        [--transport lean sdk] [--engine-runs 1200]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import re
import resource
import socket
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

STUDY2_CALLS = 1174 * 10 * 15
BODY = json.dumps({
    "id": "cmpl-bench", "object": "chat.completion", "created": 0, "model": "bench",
    "choices": [{"index": 0, "finish_reason": "stop",
                 "message": {"role": "assistant", "content": json.dumps({"talk": "ok", "monologue": "fine"})}}],
    "usage": {"prompt_tokens": 500, "completion_tokens": 20, "total_tokens": 520},
}).encode()


MODEL_LIST = json.dumps({"object": "list", "data": []}).encode()
"""``GET /models`` lists nothing: the client's preflight then has no model id to check (any model is served)."""
_MODEL_FIELD = re.compile(rb'"model"\s*:\s*"((?:[^"\\]|\\.)*)"')


class ServerStats:
    """What the server saw across all connections: the window from the first completion request received to the
    last answer sent, the completions answered and the most requests in flight at once. Only completions count;
    ``GET /models`` (the client's preflight) and ``GET /stats`` are answered at once, outside the window."""

    def __init__(self) -> None:
        self.first_request_at: float | None = None
        self.last_answer_at: float | None = None
        self.completions = 0
        self.in_flight = 0
        self.max_in_flight = 0
        self.model_list_requests = 0

    def received(self) -> None:
        if self.first_request_at is None:
            self.first_request_at = time.time()
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)

    def answered(self, is_sent: bool) -> None:
        self.in_flight -= 1
        if is_sent:
            self.completions += 1
            self.last_answer_at = time.time()

    def as_json(self) -> bytes:
        return json.dumps(vars(self)).encode()


def _completion_body(request: bytes, bodies: dict[bytes, bytes]) -> bytes:
    """BODY with the requested model echoed (as vLLM does), so the client records no served/requested mismatch."""
    match = _MODEL_FIELD.search(request)
    if match is None:
        return BODY
    model = match.group(1)
    if model not in bodies:
        bodies[model] = BODY.replace(b'"model": "bench"', b'"model": "' + model + b'"', 1)
    return bodies[model]


def _serve(port: int, latency_s: float) -> None:
    """Answer every chat completion after ``latency_s`` with a valid talk/monologue turn reply; ``GET .../stats``
    returns ``ServerStats`` as JSON and ``GET .../models`` an empty model list, both without delay."""
    stats = ServerStats()
    bodies: dict[bytes, bytes] = {}

    def answer(writer: asyncio.StreamWriter, body: bytes) -> None:
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
                     + str(len(body)).encode() + b"\r\n\r\n" + body)

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                method, _, rest = head.partition(b" ")
                path = rest.split(b" ", 1)[0].rstrip(b"/")
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":", 1)[1])
                request = await reader.readexactly(length)
                if method == b"GET":
                    if path.endswith(b"/stats"):
                        answer(writer, stats.as_json())
                    else:
                        stats.model_list_requests += 1
                        answer(writer, MODEL_LIST)
                    await writer.drain()
                    continue
                stats.received()
                is_sent = False
                try:
                    await asyncio.sleep(latency_s)
                    answer(writer, _completion_body(request, bodies))
                    await writer.drain()
                    is_sent = True
                finally:
                    stats.answered(is_sent)
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    async def main() -> None:
        server = await asyncio.start_server(handle, "127.0.0.1", port, backlog=1024)
        async with server:
            await server.serve_forever()

    asyncio.run(main())


def fetch_stats(port: int) -> dict[str, float | int | None]:
    """The running server's ``ServerStats``."""
    import urllib.request

    with urllib.request.urlopen(f"http://127.0.0.1:{port}/v1/stats", timeout=10) as response:
        return dict(json.loads(response.read()))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _drive(url: str, calls: int, concurrency: int, transport: str) -> float:
    from core.study import ModelSpec
    from simulation.backends.openai_compatible import OpenAICompatibleBackend
    from simulation.engine import CallGate, endpoint_key
    from simulation.limits import AdjustableLimiter, permit_source_from_env

    model = ModelSpec(name="bench", backend="openai", base_url=url, max_concurrency=concurrency, transport=transport)
    backend = OpenAICompatibleBackend(base_url=url, max_connections=concurrency, transport=transport)
    limiter = AdjustableLimiter()
    gate = CallGate(backend, model, limiter)
    async with permit_source_from_env().lease(endpoint_key(backend, "bench"), concurrency, limiter):
        return await _timed_calls(gate, backend, calls, concurrency)


async def _timed_calls(gate: Any, backend: Any, calls: int, concurrency: int) -> float:
    from simulation.backends.base import GenerationConfig, Message

    messages = [Message("system", "You are a participant. " * 40), Message("user", "What do you say? " * 40)]
    config = GenerationConfig(model="bench", seed=1)
    for _ in range(min(concurrency, 16)):  # warm the connection pool
        await gate.call(messages, config)
    started = time.perf_counter()
    replies = await asyncio.gather(*(gate.call(messages, config) for _ in range(calls)))
    elapsed = time.perf_counter() - started
    await backend.aclose()
    failed = sum(r.status == "error" for r in replies)
    if failed:
        print(f"  warning: {failed} calls failed", file=sys.stderr)
    return elapsed


def _engine_run(url: str, n_runs: int, concurrency: int, transport: str, db_path: Path) -> tuple[int, float]:
    """The whole engine (prompts, re-ask check, response cache, DuckDB writes) on a Study-2-shaped design."""
    import duckdb

    from core.study import parse_study
    from simulation.stages import record_design, simulate_study

    languages = ["en", "de", "fr", "es", "pt", "tr", "id", "vi", "ru", "ar", "hi", "bn", "ja", "zh", "ko", "th"]
    shares = [0.0, 0.3, 0.5, 0.7, 1.0]
    replicates = max(1, -(-n_runs // (len(languages) * len(shares))))
    study = parse_study({"name": "bench-study2", "seed": 1002, "design": {
        "languages": languages, "aligned_shares": shares, "replicates": replicates, "n_agents": 10, "n_turns": 15},
        "models": [{"name": "bench", "backend": "openai", "base_url": url, "max_concurrency": concurrency,
                    "transport": transport}]}, "bench")
    con = duckdb.connect(str(db_path))
    record_design(con, study)
    started = time.perf_counter()
    stats = simulate_study(con, study, max_concurrent_runs=max(32, concurrency // 4))
    elapsed = time.perf_counter() - started
    con.close()
    return stats.calls, elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency-ms", type=float, default=200.0)
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[8, 32, 128])
    parser.add_argument("--transport", nargs="+", default=["lean", "sdk"], choices=["lean", "sdk"],
                        help="HTTP paths to measure (the engine's default is lean)")
    parser.add_argument("--engine-runs", type=int, default=0,
                        help="also drive the whole engine through a Study-2-shaped design of about this many runs "
                             "(1200 = full Study 2 size) at the highest concurrency, into a temporary DuckDB")
    args = parser.parse_args()
    port = _free_port()
    server = multiprocessing.Process(target=_serve, args=(port, args.latency_ms / 1000), daemon=True)
    server.start()
    time.sleep(0.5)
    url = f"http://127.0.0.1:{port}/v1"
    rows = []
    try:
        for transport in args.transport:
            for concurrency in args.concurrency:
                calls = max(args.calls, concurrency * 10)
                before = resource.getrusage(resource.RUSAGE_SELF)
                elapsed = asyncio.run(_drive(url, calls, concurrency, transport))
                after = resource.getrusage(resource.RUSAGE_SELF)
                cpu_ms = ((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)) * 1000 / calls
                achieved = calls / elapsed
                ideal = concurrency / (args.latency_ms / 1000)
                rows.append((transport, concurrency, calls, achieved, ideal, achieved / ideal, cpu_ms,
                             after.ru_maxrss / 1024))
        if args.engine_runs:
            import tempfile

            with tempfile.TemporaryDirectory() as tmp:
                concurrency = max(args.concurrency)
                before = resource.getrusage(resource.RUSAGE_SELF)
                calls, elapsed = _engine_run(url, args.engine_runs, concurrency, args.transport[0],
                                             Path(tmp) / "bench.duckdb")
                after = resource.getrusage(resource.RUSAGE_SELF)
                cpu_ms = ((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)) * 1000 / calls
                ideal = concurrency / (args.latency_ms / 1000)
                engine_row = (args.transport[0], concurrency, calls, calls / elapsed, ideal, calls / elapsed / ideal,
                              cpu_ms, after.ru_maxrss / 1024)
    finally:
        server.terminate()
    print(f"latency {args.latency_ms:.0f} ms per call; client = CallGate + retry wrapper + the transport "
          f"(lean: aiohttp; sdk: AsyncOpenAI)")
    print(f"{'transport':>9} {'concurrency':>11} {'calls':>6} {'calls/s':>8} {'ideal':>7} {'of ideal':>8} "
          f"{'CPU ms/call':>11} {'peak RSS MB':>11}")
    for transport, concurrency, calls, achieved, ideal, share, cpu_ms, rss in rows:
        print(f"{transport:>9} {concurrency:>11} {calls:>6} {achieved:>8.1f} {ideal:>7.1f} {share:>8.0%} "
              f"{cpu_ms:>11.2f} {rss:>11.0f}")
    if args.engine_runs:
        transport, concurrency, calls, achieved, ideal, share, cpu_ms, rss = engine_row
        print(f"\nwhole engine, Study-2-shaped design ({calls} calls, {transport}, concurrency {concurrency}, "
              "prompts + parsing + cache + DuckDB writes):")
        print(f"{'engine':>9} {concurrency:>11} {calls:>6} {achieved:>8.1f} {ideal:>7.1f} {share:>8.0%} "
              f"{cpu_ms:>11.2f} {rss:>11.0f}")
        rows.append(engine_row)
    best = max(rows, key=lambda row: row[3])
    hours = STUDY2_CALLS / best[3] / 3600
    print(f"\nStudy 2 ({STUDY2_CALLS} calls) with {best[0]} at concurrency {best[1]}: about {hours:.1f} h of wall "
          f"time at {args.latency_ms:.0f} ms per call, if the endpoint keeps up")
    print("peak RSS is the process maximum so far (rows run in order), so a later row includes earlier ones")

if __name__ == "__main__":
    main()
