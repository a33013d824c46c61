"""A real OpenAI-compatible HTTP server on 127.0.0.1 for tests, with injectable faults.

Faults are consumed in order, one per request: ``"429"`` (with Retry-After: 0), ``"500"``, ``"400"``,
``"garbage"`` (a non-JSON body), ``"drop"`` (the connection closes without an answer), ``"prose"`` (a valid
completion whose content is not JSON), ``"refuse"`` (a content-filter stop), ``"length"`` (a reply cut off at
``max_tokens``: ``finish_reason`` ``"length"``, the JSON broken off inside the monologue, ``TRUNCATED_MONOLOGUE``)
and ``"slow"`` (sleeps past the client's timeout). Without a fault it answers with a JSON talk/monologue reply.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

TRUNCATED_MONOLOGUE = "I am une"
"""What a ``"length"`` answer's monologue got to before the cut ("I am uneasy." in a complete answer)."""


class FakeOpenAI:
    def __init__(self) -> None:
        self.faults: deque[str] = deque()
        self.requests: list[dict[str, Any]] = []
        self.authorizations: list[str] = []
        self.headers: list[dict[str, str]] = []
        self.lock = threading.Lock()
        self.slow_s = 2.0
        self.delay_s = 0.0
        self.always_prose = False
        """Every answer is prose instead of JSON (a model that ignores the output format)."""
        self.responder: Callable[[dict[str, Any]], str] | None = None
        """Answers a request's payload with this content instead (e.g. a judge's JSON)."""
        self.reask_fault: str | None = None
        """The fault every re-ask gets (a request that shows the model its own reply), whatever the queue holds."""
        self.served_model: str | None = None
        """The ``model`` every answer names (default: the requested one, echoed as vLLM does)."""
        self.system_fingerprint: str | None = None
        """The ``system_fingerprint`` every answer carries (default: none, as most servers)."""
        self.reject_response_format = False
        """Answer 400 to any request with a ``response_format`` (a server without structured outputs)."""
        self.listed_models: list[str] = []
        """The ids ``GET /models`` lists (default none: a list with nothing to check against)."""
        self.models_route = True
        """False: ``GET /models`` answers 404 (a server without the route; the preflight makes a chat call)."""
        self.required_key: str | None = None
        """Answer 401 to any request whose bearer key is not this one (default: any key is taken)."""
        self.unknown_model_404 = False
        """Answer 404 to a chat call for a model not in ``listed_models`` (as OpenAI does)."""
        self.model_list_requests = 0
        self.in_flight = 0
        self.max_in_flight = 0
        """The most chat requests the server was answering at once (what an endpoint's limit bounds)."""

    @property
    def completions(self) -> int:
        return len(self.requests)

    def handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # keep test output quiet
                pass

            def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
                self._uncount()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _key_refused(self) -> bool:
                if server.required_key is None or self.headers.get("Authorization") == f"Bearer {server.required_key}":
                    return False
                self._send(401, b'{"error": {"message": "Incorrect API key provided", '
                                b'"type": "invalid_request_error"}}')
                return True

            def do_GET(self) -> None:
                with server.lock:
                    server.model_list_requests += 1
                if self._key_refused():
                    return None
                if not server.models_route or not self.path.rstrip("/").endswith("/models"):
                    return self._send(404, b'{"error": {"message": "not found"}}')
                data = [{"id": m, "object": "model", "owned_by": "test"} for m in server.listed_models]
                return self._send(200, json.dumps({"object": "list", "data": data}).encode())

            def do_POST(self) -> None:
                # A request counts from its arrival until its answer starts: the client can send its next
                # request only after that, so the peak never counts one call twice.
                self.counted = True
                with server.lock:
                    server.in_flight += 1
                    server.max_in_flight = max(server.max_in_flight, server.in_flight)
                try:
                    self._answer()
                finally:
                    self._uncount()

            def _uncount(self) -> None:
                if getattr(self, "counted", False):
                    self.counted = False
                    with server.lock:
                        server.in_flight -= 1

            def _answer(self) -> None:
                if self._key_refused():
                    return None
                length = int(self.headers.get("Content-Length", 0))
                payload = json.loads(self.rfile.read(length) or b"{}")
                is_reask = len(payload.get("messages", [])) > 1 and payload["messages"][-2]["role"] == "assistant"
                with server.lock:
                    if is_reask and server.reask_fault is not None:
                        fault: str | None = server.reask_fault
                    else:
                        fault = server.faults.popleft() if server.faults else None
                    server.requests.append(payload)
                    server.authorizations.append(self.headers.get("Authorization", ""))
                    server.headers.append({k.lower(): v for k, v in self.headers.items()})
                if server.unknown_model_404 and payload.get("model") not in server.listed_models:
                    return self._send(404, b'{"error": {"message": "The model does not exist", "code": '
                                           b'"model_not_found"}}')
                if server.reject_response_format and "response_format" in payload:
                    return self._send(400, b'{"error": {"message": "Unrecognized request argument supplied: '
                                           b'response_format", "type": "invalid_request_error"}}')
                if fault == "429":
                    return self._send(429, b'{"error": {"message": "slow down", "type": "rate_limit"}}',
                                      {"Retry-After": "0"})
                if fault == "500":
                    return self._send(500, b'{"error": {"message": "boom", "type": "server_error"}}')
                if fault == "400":
                    return self._send(400, b'{"error": {"message": "bad request", "type": "invalid_request"}}')
                if fault == "drop":  # the connection closes with no answer at all
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return None
                if fault == "garbage":
                    return self._send(200, b"<html>definitely not json")
                if fault == "slow":
                    time.sleep(server.slow_s)
                elif server.delay_s:
                    time.sleep(server.delay_s)
                last = payload["messages"][-1]["content"]
                if fault == "refuse":
                    body = {"id": "cmpl-test", "object": "chat.completion", "created": 0, "model": payload["model"],
                            "choices": [{"index": 0, "finish_reason": "content_filter",
                                         "message": {"role": "assistant", "content": "I can't take part in this."}}],
                            "usage": {"prompt_tokens": 10, "completion_tokens": 7, "total_tokens": 17}}
                    return self._send(200, json.dumps(server.provenance(body)).encode())
                if fault == "length":
                    cut = json.dumps({"talk": f"I hear you ({len(last)} chars).", "monologue": TRUNCATED_MONOLOGUE})
                    body = {"id": "cmpl-test", "object": "chat.completion", "created": 0, "model": payload["model"],
                            "choices": [{"index": 0, "finish_reason": "length",
                                         "message": {"role": "assistant", "content": cut[:-2]}}],  # no '"}'
                            "usage": {"prompt_tokens": len(last) // 4 + 1, "completion_tokens": 12,
                                      "total_tokens": len(last) // 4 + 13}}
                    return self._send(200, json.dumps(server.provenance(body)).encode())
                content = ("I would rather just talk normally." if fault == "prose" or server.always_prose else
                           json.dumps({"talk": f"I hear you ({len(last)} chars).", "monologue": "I am uneasy."}))
                if server.responder is not None:
                    content = server.responder(payload)
                body = {"id": "cmpl-test", "object": "chat.completion", "created": 0, "model": payload["model"],
                        "choices": [{"index": 0, "finish_reason": "stop",
                                     "message": {"role": "assistant", "content": content}}],
                        "usage": {"prompt_tokens": len(last) // 4 + 1, "completion_tokens": 12,
                                  "total_tokens": len(last) // 4 + 13}}
                return self._send(200, json.dumps(server.provenance(body)).encode())

        return Handler

    def provenance(self, body: dict[str, Any]) -> dict[str, Any]:
        """The answer as this server serves it: its own model name and fingerprint when set."""
        if self.served_model is not None:
            body["model"] = self.served_model
        if self.system_fingerprint is not None:
            body["system_fingerprint"] = self.system_fingerprint
        return body


@contextmanager
def serve_openai() -> Iterator[tuple[FakeOpenAI, str]]:
    """Start the fake on a free port of 127.0.0.1; yields it and its base URL (``.../v1``)."""
    fake = FakeOpenAI()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), fake.handler())
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake, f"http://127.0.0.1:{httpd.server_address[1]}/v1"
    finally:
        httpd.shutdown()
        httpd.server_close()
