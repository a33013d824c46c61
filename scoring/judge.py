"""The ``judge`` scorer (optional, off by default): an LLM rates each talk reply against the zero-shot
categories, asked in the reply's own language, through the OpenAI-compatible backend.

Dimensions as the zero-shot scorer: ``category.<name>`` in [0, 1] and ``pathology`` / ``protective`` (the
largest of their group). Calls are retried like simulation calls and readable answers are cached in
``raw.llm_calls`` (a rerun pays nothing for them); an unreadable or failed answer abstains on every
dimension and is asked again by the next run. The key is read from the
environment variable named by ``api_key_env`` and never stored.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from core.errors import BackfireError
from core.ids import stable_hash
from scoring.base import Scorer, Utterance, Values
from scoring.hf_models import fingerprint
from scoring.zero_shot import hypotheses

if TYPE_CHECKING:
    import duckdb

VERSION = "1"
_JSON = re.compile(r"\{.*\}", re.DOTALL)


def judge_messages(language: str, text: str) -> list[Any]:
    from simulation.backends.base import Message

    spec = hypotheses()
    categories = [c for group in spec["groups"].values() for c in group]
    statements = "\n".join(f"{c}: {spec['hypotheses'][language][c]}" for c in categories)
    example = json.dumps({c: 0.0 for c in categories})
    return [Message("system", f"{spec['judge_instruction'][language]}\n\n{statements}\n\nJSON: {example}"),
            Message("user", text)]


def parse_judgement(text: str, categories: Sequence[str]) -> dict[str, float | None] | None:
    match = _JSON.search(text or "")
    if not match:
        return None
    try:
        data = json.loads(match.group(0))
    except json.JSONDecodeError:
        return None
    values: dict[str, float | None] = {}
    for category in categories:
        raw = data.get(category) if isinstance(data, dict) else None
        values[category] = min(1.0, max(0.0, float(raw))) if isinstance(raw, int | float) else None
    return values if any(v is not None for v in values.values()) else None


class JudgeScorer(Scorer):
    name = "judge"
    channels = ("talk",)
    device = "endpoint"

    def __init__(self, model: str, *, base_url: str, api_key_env: str | None = "OPENAI_API_KEY",
                 languages: Sequence[str] | None = None, batch_size: int = 16, temperature: float = 0.0,
                 max_tokens: int = 300) -> None:
        if api_key_env and not os.environ.get(api_key_env):
            raise BackfireError(f"judge: the environment variable {api_key_env} (the endpoint's key) is not set",
                                field="api_key_env", fix=f"export {api_key_env}=... or name another variable")
        spec = hypotheses()
        self.groups: dict[str, list[str]] = spec["groups"]
        self.categories = [c for group in self.groups.values() for c in group]
        known = set(spec["hypotheses"]) & set(spec["judge_instruction"])
        self.covered = frozenset(known & set(languages)) if languages else frozenset(known)
        self.model, self.base_url, self.concurrency = model, base_url, int(batch_size)
        self.temperature, self.max_tokens = float(temperature), int(max_tokens)
        self.api_key_env = api_key_env
        self.dimensions = (*self.groups, *(f"category.{c}" for c in self.categories))
        self.version = f"{VERSION}+{fingerprint(model, base_url, spec['version'], temperature, max_tokens)}"
        self.cache: Any = None

    def bind(self, con: duckdb.DuckDBPyConnection) -> None:
        from warehouse.llm_cache import DuckDBResponseCache

        self.cache = DuckDBResponseCache(con)

    def languages(self) -> frozenset[str]:
        return self.covered

    def model_id(self, language: str) -> str:
        return f"{self.model}@{self.base_url}"

    async def _judge(self, backend: Any, utterance: Utterance, gate: asyncio.Semaphore) -> Values | None:
        from simulation.backends.base import GenerationConfig
        from simulation.backends.retry import generate_with_retries

        messages = judge_messages(utterance.language, utterance.text)
        key = stable_hash("judge", self.model, self.base_url, self.temperature, self.max_tokens,
                          [(m.role, m.content) for m in messages])
        reply = self.cache.get(key) if self.cache is not None else None
        if reply is None:
            async with gate:
                reply = await generate_with_retries(backend, messages, GenerationConfig(
                    model=self.model, temperature=self.temperature, max_tokens=self.max_tokens, seed=0))
        judged = parse_judgement(reply.text, self.categories) if reply.status == "ok" else None
        if judged is not None and not reply.cache_hit and self.cache is not None:
            self.cache.put(key, self.model, self.base_url, reply)  # an unreadable answer is asked again next time
        if judged is None:
            return {d: None for d in self.dimensions}
        values: Values = {f"category.{c}": v for c, v in judged.items()}
        for group, members in self.groups.items():
            present = [v for c in members if (v := judged[c]) is not None]
            values[group] = max(present) if present else None
        return values

    async def _judge_all(self, utterances: Sequence[Utterance]) -> list[Values | None]:
        from simulation.backends.openai_compatible import OpenAICompatibleBackend

        backend = OpenAICompatibleBackend(base_url=self.base_url, api_key_env=self.api_key_env,
                                          max_connections=self.concurrency)  # one per event loop
        gate = asyncio.Semaphore(self.concurrency)
        try:
            return list(await asyncio.gather(*(self._judge(backend, u, gate) for u in utterances)))
        finally:
            await backend.aclose()

    def score_batch(self, utterances: Sequence[Utterance]) -> list[Values | None]:
        covered = [i for i, u in enumerate(utterances) if u.language in self.covered]
        results: list[Values | None] = [None] * len(utterances)
        for index, values in zip(covered, asyncio.run(self._judge_all([utterances[i] for i in covered])),
                                 strict=True):
            results[index] = values
        if self.cache is not None:
            self.cache.flush()
        return results

    def provenance(self) -> dict[str, Any]:
        return {**super().provenance(), "model_id": self.model, "base_url": self.base_url,
                "concurrency": self.concurrency}
