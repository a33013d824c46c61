"""The ``openai`` backend: any OpenAI-compatible chat endpoint (OpenAI, vLLM, Ollama, llama.cpp, LiteLLM).

The key is read from the environment variable the study names (``api_key_env``) when the backend is built;
it is never logged, stored or put in an error message. The SDK's own retries are off: the project's retry
wrapper asks ``is_endpoint_error`` whether a failure is the endpoint's (the SDK's ``APIError`` family on both
transports, a body that is not JSON or breaks the wire format) and ``should_retry`` whether to try again (429
with Retry-After, 5xx, timeouts, connection errors, garbage bodies); anything else is a bug and propagates.
"""

from __future__ import annotations

import json
import logging
import math
import os
import time
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from core.errors import StudyConfigError
from core.extras import require
from core.records import ReplyStatus
from simulation.backends.base import Backend, EndpointError, GenerationConfig, Message, Reply, RetryDecision
from simulation.backends.reply_schema import PROMPT_ONLY, TURN_SCHEMA, is_probe

LOCAL_HOSTS = ("127.0.0.1", "localhost", "[::1]", "0.0.0.0")
logger = logging.getLogger(__name__)

StructuredOutput = Literal["auto", "json_schema", "json_object", "none"]
"""How a turn's reply is held to the talk/monologue format: the JSON schema as ``response_format`` (the server
constrains decoding to it), JSON mode, or the prompt alone; ``auto`` sends the schema and falls back to the prompt
alone when the endpoint rejects it."""

RESPONSE_FORMATS: dict[str, dict[str, Any]] = {
    "json_schema": {"type": "json_schema",
                    "json_schema": {"name": "agent_turn", "strict": True, "schema": TURN_SCHEMA}},
    "json_object": {"type": "json_object"},
}

PROMPT_ONLY_NOTE = f"{PROMPT_ONLY} (the endpoint rejected response_format)"
"""Stored in the ``error`` column of every reply made after ``auto`` fell back, so the fallback can be queried."""

_REJECTION_WORDS = ("response_format", "response format", "json_schema", "json_object", "schema", "structured",
                    "grammar")


@dataclass
class OpenAICompatibleBackend(Backend):
    """Chat completions from an OpenAI-compatible endpoint.

    ``transport`` picks the HTTP path: ``lean`` (default) sends the request over a pooled aiohttp session and
    raises the SDK's error types (see ``lean_http``); ``sdk`` sends it through ``openai.AsyncOpenAI``. Both
    send the same request and give the same ``Reply``; lean costs ~10x less CPU per call.
    """

    base_url: str = "https://api.openai.com/v1"
    api_key_env: str | None = None
    timeout_s: float = 120.0
    max_connections: int = 16
    transport: Literal["lean", "sdk"] = "lean"
    extra_headers: dict[str, str] = field(default_factory=dict)
    structured_output: StructuredOutput = "none"
    """The study option's default is ``auto``; built directly (the judge scorer), nothing is sent: its replies are
    not talk/monologue turns."""
    name: str = field(default="openai", init=False)
    prompt_only: bool = field(default=False, init=False)
    """``auto`` fell back: the endpoint rejected ``response_format``, so the rest of the run is prompt-only."""
    _client: Any = field(default=None, init=False, repr=False)
    _secret: str = field(default="", init=False, repr=False)

    def __post_init__(self) -> None:
        openai = require("openai", extra="openai", feature="the openai backend")
        key = os.environ.get(self.api_key_env, "") if self.api_key_env else ""
        if self.api_key_env and not key:
            raise StudyConfigError(f"environment variable {self.api_key_env} is not set", field="models[].api_key_env",
                                   fix=f"export {self.api_key_env}=... before running (the key is never read from "
                                       "a file)")
        if not key and not any(host in self.base_url for host in LOCAL_HOSTS):
            raise StudyConfigError(f"no api_key_env for the remote endpoint {self.base_url}",
                                   field="models[].api_key_env", fix="name the environment variable that holds "
                                                                     "the key, e.g. api_key_env: OPENAI_API_KEY")
        if key and (key != key.strip() or any(ord(c) < 32 for c in key)):
            raise StudyConfigError(f"the key in {self.api_key_env} has surrounding whitespace or control characters "
                                   "(a CRLF env file?)", field="models[].api_key_env",
                                   fix=f"export {self.api_key_env} again without trailing spaces or line ends")
        self._secret = key
        if self.transport == "sdk":
            self._client = openai.AsyncOpenAI(base_url=self.base_url, api_key=key or "not-needed", max_retries=0,
                                              timeout=self.timeout_s, default_headers=self.extra_headers or None)
        else:
            # fail here, before any call, when the extra is missing
            require("aiohttp", extra="openai", feature="the openai backend's lean transport")
            from simulation.backends.lean_http import LeanChatClient

            self._client = LeanChatClient(self.base_url, key, timeout_s=self.timeout_s,
                                          max_connections=self.max_connections, extra_headers=self.extra_headers)

    def connection_key(self) -> str:
        return f"openai:{self.base_url}"

    async def aclose(self) -> None:
        """Close the HTTP connections (before the event loop ends)."""
        if self.transport == "sdk":
            await self._client.close()
        else:
            await self._client.aclose()

    def redact(self, text: str) -> str:
        return text.replace(self._secret, "[redacted]") if self._secret else text

    async def generate(self, messages: list[Message], config: GenerationConfig) -> Reply:
        payload: dict[str, Any] = {"model": config.model,
                                   "messages": [{"role": m.role, "content": m.content} for m in messages],
                                   "temperature": config.temperature, "max_tokens": config.max_tokens}
        if config.seed is not None:
            payload["seed"] = config.seed
        if config.top_p is not None:
            payload["top_p"] = config.top_p
        response_format = self._response_format(config)
        started = time.perf_counter()
        if response_format is None:
            body = await self._send(payload)
        else:
            try:
                body = await self._send({**payload, "response_format": response_format})
            except Exception as error:
                if self.structured_output != "auto" or not self._rejects_response_format(error):
                    raise
                if not self.prompt_only:
                    self.prompt_only = True
                    logger.warning("%s rejected response_format (%s); structured_output: auto falls back to "
                                   "prompt-only JSON for the rest of this run (noted in the error column of each "
                                   "reply: '%s')", self.base_url, self.redact(str(error))[:200], PROMPT_ONLY_NOTE)
                body = await self._send(payload)
                response_format = None
        reply = reply_from_completion(body, latency_ms=(time.perf_counter() - started) * 1000)
        if self.prompt_only and response_format is None and not is_probe(config):
            reply = replace(reply, error="; ".join(filter(None, [reply.error, PROMPT_ONLY_NOTE])))
        return reply

    async def _send(self, payload: dict[str, Any]) -> dict[str, Any]:
        if self.transport == "sdk":
            openai = require("openai", extra="openai", feature="the openai backend")
            try:
                return dict((await self._client.chat.completions.create(**payload)).to_dict())
            except openai.APIConnectionError as exc:
                if isinstance(exc, openai.APITimeoutError):
                    raise
                from simulation.backends.causes import describe_connection_failure

                # the SDK says only "Connection error."; keep the OS cause (refused, DNS...) with its errno
                raise openai.APIConnectionError(
                    message=f"Connection error: {describe_connection_failure(exc, self.base_url)}",
                    request=exc.request) from exc
        return dict(await self._client.create(payload))

    def _response_format(self, config: GenerationConfig) -> dict[str, Any] | None:
        """What to send as ``response_format`` for this call: nothing for a probe (free text), for ``none`` or
        after ``auto`` fell back."""
        if is_probe(config) or self.structured_output == "none" or self.prompt_only:
            return None
        return RESPONSE_FORMATS["json_object" if self.structured_output == "json_object" else "json_schema"]

    def _rejects_response_format(self, error: Exception) -> bool:
        """A 400/422 whose message names the response format: the endpoint does not take structured outputs."""
        status = getattr(error, "status_code", None)
        text = str(error).lower()
        return status in (400, 422) and any(word in text for word in _REJECTION_WORDS)

    def cache_variant(self) -> str:
        """Replies under another ``structured_output`` than ``auto`` are other completions (see ``Backend``)."""
        return "" if self.structured_output == "auto" else f"structured_output={self.structured_output}"

    def is_endpoint_error(self, error: Exception) -> bool:
        """The SDK's errors (HTTP error answers, timeouts, connection errors, invalid bodies; the lean transport
        raises the same types) and a body the SDK could not decode as JSON (its ``JSONDecodeError``)."""
        openai = require("openai", extra="openai", feature="the openai backend")

        return isinstance(error, openai.APIError | json.JSONDecodeError) or super().is_endpoint_error(error)

    def should_retry(self, error: Exception) -> RetryDecision:
        openai = require("openai", extra="openai", feature="the openai backend")

        if isinstance(error, openai.RateLimitError):
            return RetryDecision(retry=True, reason="rate_limit", retry_after_s=_retry_after(error))
        if isinstance(error, openai.APITimeoutError | openai.APIConnectionError):
            return RetryDecision(retry=True, reason="transient")
        if isinstance(error, openai.APIStatusError) and error.status_code >= 500:
            return RetryDecision(retry=True, reason="transient", retry_after_s=_retry_after(error))
        if isinstance(error, openai.APIResponseValidationError | json.JSONDecodeError | EndpointError):  # garbage
            return RetryDecision(retry=True, reason="transient")
        return RetryDecision(retry=False)


MAX_RETRY_AFTER_S = 300.0


def _retry_after(error: Any) -> float | None:
    """The server's requested wait, read as the SDK reads it: ``retry-after-ms``, then ``retry-after`` in
    seconds or as an HTTP date; None (so backoff applies) unless finite and within 0-300 s."""
    import email.utils
    import math

    response = getattr(error, "response", None)
    if response is None:
        return None
    for header, divisor in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        value = response.headers.get(header)
        if value is None:
            continue
        try:
            delay = float(value) / divisor
        except ValueError:
            parsed = email.utils.parsedate_tz(value) if header == "retry-after" else None
            if parsed is None:
                continue
            delay = email.utils.mktime_tz(parsed) - time.time()
        return delay if math.isfinite(delay) and 0 <= delay <= MAX_RETRY_AFTER_S else None
    return None


def reply_from_completion(body: dict[str, Any], *, latency_ms: float) -> Reply:
    """Text, refusal and token usage of a chat completion body (the OpenAI wire format).

    A completion stopped by ``max_tokens`` (``finish_reason == "length"``) is ``truncated``, its partial text
    kept; a content-filter stop or a ``refusal`` is ``refused`` (whatever its finish reason). The body's
    ``model`` (what was actually served) and ``system_fingerprint`` are kept when they are text.

    Raises:
        EndpointError: the body breaks the wire format (``choices``, ``message`` or ``usage`` of the wrong type,
            content that is not text, token counts that are not numbers): the endpoint's failure, retried.
    """
    choices = body.get("choices") or []
    if not isinstance(choices, list):
        raise EndpointError("the endpoint's reply has a 'choices' that is not a list")
    choice = choices[0] if choices and isinstance(choices[0], dict) else {}
    message = choice.get("message") or {}
    usage = body.get("usage") or {}
    if not isinstance(message, dict) or not isinstance(usage, dict):
        raise EndpointError("the endpoint's reply has a 'message' or 'usage' that is not an object")
    content = message.get("content") or ""
    if not isinstance(content, str):
        raise EndpointError("the endpoint's reply has a message content that is not text")
    finish_reason = choice.get("finish_reason")
    refused = finish_reason == "content_filter" or bool(message.get("refusal"))
    status: ReplyStatus = "refused" if refused else "truncated" if finish_reason == "length" else "ok"
    return Reply(text=content, status=status,
                 tokens_in=_token_count(usage, "prompt_tokens"), tokens_out=_token_count(usage, "completion_tokens"),
                 latency_ms=latency_ms,
                 error=f"finish_reason={finish_reason}" if finish_reason not in (None, "stop") else None,
                 served_model=_text_or_none(body.get("model")),
                 system_fingerprint=_text_or_none(body.get("system_fingerprint")))


def _text_or_none(value: Any) -> str | None:
    """Provenance fields are stored only as non-empty text (a server may send null or omit them)."""
    return value[:200] if isinstance(value, str) and value else None


def _token_count(usage: dict[str, Any], key: str) -> int:
    value = usage.get(key) or 0
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise EndpointError(f"the endpoint's reply has a usage.{key} that is not a number")
    return int(value)
