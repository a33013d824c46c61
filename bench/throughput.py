"""Throughput of the openai backend path against a local endpoint with a fixed latency.

Starts an OpenAI-compatible server in a separate process (asyncio, HTTP/1.1 keep-alive, every answer after
``--latency-ms``), then drives N calls through the same path the engine uses (``CallGate``: per-endpoint
semaphore, retry wrapper, ``AsyncOpenAI``) at each concurrency, and prints achieved calls/s against the
ideal concurrency / latency, client CPU time per call and peak RSS, plus an extrapolated Study 2 wall time.

    .venv/bin/python bench/throughput.py [--latency-ms 200] [--calls 2000] [--concurrency 8 32 128]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import resource
import socket
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

STUDY2_CALLS = 1174 * 10 * 15
BODY = json.dumps({
    "id": "cmpl-bench", "object": "chat.completion", "created": 0, "model": "bench",
    "choices": [{"index": 0, "finish_reason": "stop",
                 "message": {"role": "assistant", "content": json.dumps({"talk": "ok", "monologue": "fine"})}}],
    "usage": {"prompt_tokens": 500, "completion_tokens": 20, "total_tokens": 520},
}).encode()


def _serve(port: int, latency_s: float) -> None:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":", 1)[1])
                await reader.readexactly(length)
                await asyncio.sleep(latency_s)
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
                             + str(len(BODY)).encode() + b"\r\n\r\n" + BODY)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    async def main() -> None:
        server = await asyncio.start_server(handle, "127.0.0.1", port, backlog=1024)
        async with server:
            await server.serve_forever()

    asyncio.run(main())


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _drive(url: str, calls: int, concurrency: int) -> float:
    from simulation.backends.base import GenerationConfig, Message
    from simulation.backends.openai_compatible import OpenAICompatibleBackend
    from simulation.engine import CallGate
    from simulation.study import ModelSpec

    model = ModelSpec(name="bench", backend="openai", base_url=url, max_concurrency=concurrency)
    backend = OpenAICompatibleBackend(base_url=url, max_connections=concurrency)
    gate = CallGate(backend, model, asyncio.Semaphore(concurrency))
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency-ms", type=float, default=200.0)
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[8, 32, 128])
    args = parser.parse_args()
    port = _free_port()
    server = multiprocessing.Process(target=_serve, args=(port, args.latency_ms / 1000), daemon=True)
    server.start()
    time.sleep(0.5)
    url = f"http://127.0.0.1:{port}/v1"
    rows = []
    try:
        for concurrency in args.concurrency:
            calls = max(args.calls, concurrency * 10)
            before = resource.getrusage(resource.RUSAGE_SELF)
            elapsed = asyncio.run(_drive(url, calls, concurrency))
            after = resource.getrusage(resource.RUSAGE_SELF)
            cpu_ms = ((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)) * 1000 / calls
            achieved = calls / elapsed
            ideal = concurrency / (args.latency_ms / 1000)
            rows.append((concurrency, calls, achieved, ideal, achieved / ideal, cpu_ms, after.ru_maxrss / 1024))
    finally:
        server.terminate()
    print(f"latency {args.latency_ms:.0f} ms per call; client = CallGate + retry wrapper + AsyncOpenAI")
    print(f"{'concurrency':>11} {'calls':>6} {'calls/s':>8} {'ideal':>7} {'of ideal':>8} {'CPU ms/call':>11} "
          f"{'peak RSS MB':>11}")
    for concurrency, calls, achieved, ideal, share, cpu_ms, rss in rows:
        print(f"{concurrency:>11} {calls:>6} {achieved:>8.1f} {ideal:>7.1f} {share:>8.0%} {cpu_ms:>11.2f} {rss:>11.0f}")
    best = max(rows, key=lambda row: row[2])
    hours = STUDY2_CALLS / best[2] / 3600
    print(f"\nStudy 2 ({STUDY2_CALLS} calls) at concurrency {best[0]}: about {hours:.1f} h of wall time "
          f"at {args.latency_ms:.0f} ms per call, if the endpoint keeps up")


if __name__ == "__main__":
    main()
