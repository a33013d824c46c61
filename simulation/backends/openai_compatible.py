"""The ``openai`` backend: any OpenAI-compatible chat endpoint (OpenAI, vLLM, Ollama, llama.cpp, LiteLLM).

The key is read from the environment variable the study names (``api_key_env``) when the backend is built;
it is never logged, stored or put in an error message. The SDK's own retries are off: the project's retry
wrapper classifies failures through ``should_retry`` (429 with Retry-After, 5xx, timeouts, connection errors).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from typing import Any

from simulation.backends.base import Backend, GenerationConfig, Message, Reply, RetryDecision
from simulation.errors import MissingExtraError, StudyConfigError

LOCAL_HOSTS = ("127.0.0.1", "localhost", "[::1]", "0.0.0.0")


@dataclass
class OpenAICompatibleBackend(Backend):
    base_url: str = "https://api.openai.com/v1"
    api_key_env: str | None = None
    timeout_s: float = 120.0
    max_connections: int = 16
    name: str = field(default="openai", init=False)
    _client: Any = field(default=None, init=False, repr=False)
    _secret: str = field(default="", init=False, repr=False)

    def __post_init__(self) -> None:
        try:
            import openai
        except ImportError as exc:
            raise MissingExtraError("the openai backend", "openai") from exc
        key = os.environ.get(self.api_key_env, "") if self.api_key_env else ""
        if self.api_key_env and not key:
            raise StudyConfigError(f"environment variable {self.api_key_env} is not set", field="models[].api_key_env",
                                   fix=f"export {self.api_key_env}=... before running (the key is never read from "
                                       "a file)")
        if not key and not any(host in self.base_url for host in LOCAL_HOSTS):
            raise StudyConfigError(f"no api_key_env for the remote endpoint {self.base_url}",
                                   field="models[].api_key_env", fix="name the environment variable that holds "
                                                                     "the key, e.g. api_key_env: OPENAI_API_KEY")
        self._secret = key
        self._client = openai.AsyncOpenAI(base_url=self.base_url, api_key=key or "not-needed", max_retries=0,
                                          timeout=self.timeout_s)

    def connection_key(self) -> str:
        return f"openai:{self.base_url}"

    async def aclose(self) -> None:
        """Close the HTTP connections (before the event loop ends)."""
        await self._client.close()

    def redact(self, text: str) -> str:
        return text.replace(self._secret, "[redacted]") if self._secret else text

    async def generate(self, messages: list[Message], config: GenerationConfig) -> Reply:
        started = time.perf_counter()
        completion = await self._client.chat.completions.create(
            model=config.model,
            messages=[{"role": m.role, "content": m.content} for m in messages],
            temperature=config.temperature,
            max_tokens=config.max_tokens,
            seed=config.seed,
        )
        latency_ms = (time.perf_counter() - started) * 1000
        choice = completion.choices[0] if completion.choices else None
        text = (choice.message.content or "") if choice is not None else ""
        usage = completion.usage
        refused = choice is not None and (choice.finish_reason == "content_filter"
                                          or bool(getattr(choice.message, "refusal", None)))
        return Reply(text=text, status="refused" if refused else "ok",
                     tokens_in=usage.prompt_tokens if usage else 0, tokens_out=usage.completion_tokens if usage else 0,
                     latency_ms=latency_ms,
                     error=f"finish_reason={choice.finish_reason}" if choice and choice.finish_reason not in
                     (None, "stop") else None)

    def should_retry(self, error: Exception) -> RetryDecision:
        import openai

        if isinstance(error, openai.RateLimitError):
            return RetryDecision(retry=True, reason="rate_limit", retry_after_s=_retry_after(error))
        if isinstance(error, openai.APITimeoutError | openai.APIConnectionError):
            return RetryDecision(retry=True, reason="transient")
        if isinstance(error, openai.APIStatusError) and error.status_code >= 500:
            return RetryDecision(retry=True, reason="transient", retry_after_s=_retry_after(error))
        if isinstance(error, openai.APIResponseValidationError | ValueError):  # garbage body
            return RetryDecision(retry=True, reason="transient")
        return RetryDecision(retry=False)


def _retry_after(error: Any) -> float | None:
    response = getattr(error, "response", None)
    value = response.headers.get("retry-after") if response is not None else None
    try:
        return min(float(value), 300.0) if value is not None else None
    except ValueError:
        return None
