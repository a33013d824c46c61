"""Probe each OpenAI-compatible endpoint once before a study spends anything: is it up, is the key good, does it
serve the model?

Why: against a dead endpoint every call of a study fails after its retries, and the study stops only when
``budget.max_error_share`` trips, after minutes of retry noise. One ``GET {base_url}/models`` (or, where the
server has no such route, one chat call of one token) says in seconds which URL fails and why. Stdlib HTTP: a
handful of requests, and no event loop to set up before the run's own.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

from simulation.backends.causes import describe_connection_failure

PROBE_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class Endpoint:
    """One distinct endpoint of a study and the model ids asked of it."""

    base_url: str
    api_key_env: str | None
    extra_headers: tuple[tuple[str, str], ...]
    models: tuple[str, ...]


def _request(url: str, endpoint: Endpoint, body: dict[str, Any] | None = None) -> urllib.request.Request:
    headers = {"Accept": "application/json", **dict(endpoint.extra_headers)}
    key = os.environ.get(endpoint.api_key_env, "") if endpoint.api_key_env else ""
    if key:
        headers["Authorization"] = f"Bearer {key}"
    data = None
    if body is not None:
        data, headers["Content-Type"] = json.dumps(body).encode(), "application/json"
    return urllib.request.Request(url, data=data, headers=headers, method="POST" if body is not None else "GET")


def _fetch(request: urllib.request.Request, timeout_s: float) -> tuple[int, bytes]:
    """Status and body; HTTP error answers are returned, connection failures raised."""
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def _http_problem(status: int, url: str, endpoint: Endpoint, model: str | None) -> str:
    if status in (401, 403):
        key = f"the key in {endpoint.api_key_env}" if endpoint.api_key_env else "no key (api_key_env is not set)"
        return f"HTTP {status} from {url}: {key} was refused (bad or missing key)"
    if status == 404 and model is not None:
        return f"HTTP 404 from {url}: model '{model}' unknown there (or base_url's path is wrong)"
    return f"HTTP {status} from {url}"


def probe(endpoint: Endpoint, timeout_s: float = PROBE_TIMEOUT_S) -> str | None:
    """What is wrong with the endpoint in words (URL and cause, errno included), or None when it answers, takes
    the key and serves every model asked of it."""
    base = endpoint.base_url.rstrip("/")
    url = f"{base}/models"
    try:
        status, raw = _fetch(_request(url, endpoint), timeout_s)
        if status in (404, 405, 501):  # no model list here: one chat call of one token per model instead
            for model in endpoint.models:
                url = f"{base}/chat/completions"
                body = {"model": model, "max_tokens": 1, "messages": [{"role": "user", "content": "ping"}]}
                status, _ = _fetch(_request(url, endpoint, body), timeout_s)
                if status >= 400:
                    return _http_problem(status, url, endpoint, model)
            return None
    except TimeoutError:
        return f"no answer from {url} within {timeout_s:g} s (timeout)"
    except (urllib.error.URLError, OSError, ValueError) as exc:  # ValueError: a malformed URL
        cause = exc.reason if isinstance(exc, urllib.error.URLError) else exc
        if isinstance(cause, TimeoutError):
            return f"no answer from {url} within {timeout_s:g} s (timeout)"
        if isinstance(cause, BaseException):
            return f"cannot reach {url}: {describe_connection_failure(cause, url)}"
        return f"cannot reach {url}: {cause}"
    if status >= 400:
        return _http_problem(status, url, endpoint, None)
    served = _served_models(raw)
    missing = [m for m in endpoint.models if served is not None and m not in served]
    if missing:
        listed = ", ".join(sorted(served or [])[:10]) or "none"
        return (f"{url} does not list model {', '.join(repr(m) for m in missing)} (model unknown; it serves: "
                f"{listed})")
    return None


def _served_models(raw: bytes) -> set[str] | None:
    """The model ids of a ``/models`` answer, or None when it lists none in the OpenAI format (nothing to check)."""
    try:
        body = json.loads(raw)
    except ValueError:
        return None
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, list) or not data:
        return None
    ids = {item["id"] for item in data if isinstance(item, dict) and isinstance(item.get("id"), str)}
    return ids or None
