"""A lean HTTP path to ``POST {base_url}/chat/completions`` that fails with the ``openai`` package's own errors.

Why not the SDK for every call: at 128 calls in flight on 2 cores, ``AsyncOpenAI`` spends ~3.5 ms of CPU per
call (request building, pydantic models, httpx), so one core saturates at ~40% of the ideal rate. This path
sends the same request (same headers, same JSON body) over one pooled ``aiohttp`` session and parses the
reply into a plain dict (~0.4 ms per call). Failures are raised as ``openai.RateLimitError``,
``openai.InternalServerError``, ``openai.APITimeoutError``, ``openai.APIConnectionError``,
``openai.APIResponseValidationError``..., built the way the SDK builds them, so retry classification, error
messages and callers' ``except`` clauses are the same on both paths. Error objects are only built on failure.
"""

from __future__ import annotations

import json
from typing import Any

from core.extras import require

try:  # orjson is several times faster on the ~2 KB request and response bodies; json is the fallback
    import orjson

    def _dumps(value: Any) -> bytes:
        return orjson.dumps(value)

    _loads = orjson.loads
except ImportError:  # pragma: no cover - orjson ships with the dagster stack
    def _dumps(value: Any) -> bytes:
        return json.dumps(value, ensure_ascii=False).encode()

    _loads = json.loads

USER_AGENT = "alignment-backfire (lean OpenAI-compatible client)"
FEATURE = "the openai backend's lean transport"


def _openai() -> Any:
    return require("openai", extra="openai", feature=FEATURE)


def _aiohttp() -> Any:
    return require("aiohttp", extra="openai", feature=FEATURE)


def _httpx2() -> Any:
    return require("httpx2", extra="openai", feature=FEATURE)  # the openai SDK's HTTP library


class LeanChatClient:
    """One endpoint's chat completions over a keep-alive connection pool of ``max_connections``.

    The session is opened lazily inside the running event loop (aiohttp sessions belong to one loop) and
    closed by ``aclose``.
    """

    def __init__(self, base_url: str, api_key: str, *, timeout_s: float, max_connections: int,
                 extra_headers: dict[str, str] | None = None) -> None:
        self.url = base_url.rstrip("/") + "/chat/completions"
        self._headers = {"Content-Type": "application/json", "Accept": "application/json",
                         "User-Agent": USER_AGENT, **(extra_headers or {})}
        if api_key:
            self._headers["Authorization"] = f"Bearer {api_key}"
        self._timeout_s = timeout_s
        self._max_connections = max_connections
        self._session: Any = None

    def _open(self) -> Any:
        aiohttp = _aiohttp()

        connector = aiohttp.TCPConnector(limit=self._max_connections, limit_per_host=0, ttl_dns_cache=300,
                                         keepalive_timeout=60)
        self._session = aiohttp.ClientSession(connector=connector, headers=self._headers,
                                              timeout=aiohttp.ClientTimeout(total=self._timeout_s),
                                              skip_auto_headers=("Accept-Encoding",), raise_for_status=False)
        return self._session

    async def create(self, payload: dict[str, Any]) -> dict[str, Any]:
        """Send one completion request; return the decoded body, or raise the SDK's error for the failure."""
        aiohttp, openai = _aiohttp(), _openai()
        session = self._session or self._open()
        try:
            async with session.post(self.url, data=_dumps(payload)) as response:
                raw = await response.read()
                status = response.status
                headers = response.headers
        except TimeoutError as exc:
            raise openai.APITimeoutError(request=self._request()) from exc
        except (aiohttp.ClientError, OSError, ValueError) as exc:  # ValueError: e.g. a header aiohttp refuses
            from simulation.backends.causes import describe_connection_failure

            raise openai.APIConnectionError(message=f"Connection error: {describe_connection_failure(exc, self.url)}",
                                            request=self._request()) from exc
        if status >= 400:
            raise self._status_error(status, headers, raw)
        try:
            body = _loads(raw)
        except ValueError as exc:
            raise openai.APIResponseValidationError(self._response(status, headers, raw),
                                                    raw.decode("utf-8", "replace")[:500],
                                                    message="the endpoint's reply is not JSON") from exc
        if not isinstance(body, dict) or not isinstance(body.get("choices"), list):
            raise openai.APIResponseValidationError(self._response(status, headers, raw), body,
                                                    message="the endpoint's reply has no 'choices' list")
        return body

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _request(self) -> Any:
        return _httpx2().Request("POST", self.url)

    def _response(self, status: int, headers: Any, raw: bytes) -> Any:
        return _httpx2().Response(status, headers=list(headers.items()), content=raw, request=self._request())

    def _status_error(self, status: int, headers: Any, raw: bytes) -> Exception:
        """The SDK's mapping of status codes to error classes, with the SDK's message format and body."""
        openai = _openai()
        try:
            body: Any = _loads(raw)
        except ValueError:
            body = raw.decode("utf-8", "replace")
        data = body.get("error", body) if isinstance(body, dict) else body
        message = data.get("message") if isinstance(data, dict) else None
        # The SDK's text: the status and the body's error message only (never the whole body: it may echo
        # request data or a server's debug output).
        text = f"Error code: {status}" + (f" - {message}" if isinstance(message, str) and message else "")
        by_status: dict[int, type] = {
            400: openai.BadRequestError, 401: openai.AuthenticationError, 403: openai.PermissionDeniedError,
            404: openai.NotFoundError, 409: openai.ConflictError, 422: openai.UnprocessableEntityError,
            429: openai.RateLimitError}
        error_class = by_status.get(status, openai.InternalServerError if status >= 500 else openai.APIStatusError)
        return error_class(text, response=self._response(status, headers, raw), body=data)
