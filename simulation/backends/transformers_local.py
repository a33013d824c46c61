"""The ``transformers`` backend: a local Hugging Face chat model, by hub id or folder, on GPU when there is one.

Why a micro-batcher: the engine asks the 10 agents of a turn (and the turns of other runs) concurrently, one
call each; a GPU is only used well when those calls go through ``generate`` together. Calls that arrive while
the event loop is busy are gathered (up to ``max_batch_size``), rendered with the model's chat template,
left-padded and generated in one call on a worker thread, so the event loop keeps serving other runs.

Why a seeded Gumbel sampler instead of ``do_sample``: ``generate`` has one random stream per batch, so a
row's draw would depend on which other rows shared its batch. Each row here gets its own generator seeded by
its call seed and the step; adding Gumbel noise to logits / temperature and taking the argmax is exactly a
draw from softmax(logits / temperature). A call's text therefore depends on its seed, not on its batch.

Why a grammar on turn rows: with ``structured_output`` json_schema (or auto, when xgrammar is installed) a turn's
reply is decoded under the reply schema (``constrained_decoding``), so even a small model answers in the
talk/monologue format instead of spending its re-asks on parse errors. Probe rows in the same batch stay free.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Literal

from core.errors import StudyConfigError
from core.extras import require
from simulation.backends.base import Backend, GenerationConfig, Message, Reply
from simulation.backends.reply_schema import PROMPT_ONLY, is_probe

logger = logging.getLogger(__name__)
FEATURE = "the transformers backend"
PROMPT_ONLY_NOTE = f"{PROMPT_ONLY} (xgrammar is not installed)"
"""Stored in the ``error`` column of every turn reply made prompt-only because ``auto`` found no xgrammar."""
BUDGET_CLOSED = "finish_reason=length (structured_output closed the JSON within max_tokens)"
"""The ``error`` of a constrained reply whose open string the token budget closed: it was cut, so truncated."""


def pick_device(torch: Any, requested: str = "auto", *, field: str = "models[].device") -> tuple[str, Any]:
    """The device and dtype to load on: CUDA with bf16 (fp16 on older GPUs) when present, else CPU float32.
    Shared with the model scorers (``scoring.devices``); ``field`` names the setting in errors."""
    if requested != "auto":
        if requested.startswith("cuda") and not torch.cuda.is_available():
            raise StudyConfigError(f"device '{requested}' was asked for but CUDA is not available",
                                   field=field, fix="use device: auto (or cpu) on this machine")
        device = requested
    else:
        device = "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda"):
        return device, torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return device, torch.float32


@dataclass
class _Pending:
    messages: list[Message]
    config: GenerationConfig
    future: asyncio.Future[Reply]


@dataclass
class TransformersBackend(Backend):
    """Generate locally with ``AutoModelForCausalLM``; ``model`` is a hub id (from the local cache) or a path."""

    model: str = ""
    device: str = "auto"
    gguf_file: str | None = None
    revision: str | None = None
    """Hub revision to load (commit, tag or branch); None loads the cached default."""
    max_connections: int = 32
    """Largest batch given to one ``generate`` call."""
    structured_output: Literal["auto", "json_schema", "none"] = "none"
    """Turn replies decoded under the reply schema (json_schema), by the prompt alone (none), or json_schema when
    xgrammar is installed and prompt-only, recorded, when not (auto, the study option's default)."""
    name: str = field(default="transformers", init=False)
    prompt_only: bool = field(default=False, init=False)
    """``auto`` found no xgrammar: every turn reply is prompt-only and notes it (``PROMPT_ONLY_NOTE``)."""
    batches: list[int] = field(default_factory=list, init=False, repr=False)
    """Size of every batch generated so far (for logs and tests)."""
    _queue: list[_Pending] = field(default_factory=list, init=False, repr=False)
    _consumer: Any = field(default=None, init=False, repr=False)
    _wakeup: Any = field(default=None, init=False, repr=False)
    _load_error: Exception | None = field(default=None, init=False, repr=False)
    _generate_lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)
    _loaded: Any = field(default=None, init=False, repr=False)
    _grammar: Any = field(default=None, init=False, repr=False)
    served_model: str = field(default="", init=False)
    """``model@commit`` once loaded (the revision actually resolved), else ``model@revision`` or ``model``."""

    def __post_init__(self) -> None:
        if not self.model:
            raise StudyConfigError("the transformers backend needs a model id or path", field="models[].name",
                                   fix="name a Hugging Face model id in your local cache, or a local folder")
        require("torch", extra="hf", feature=FEATURE)
        require("transformers", extra="hf", feature=FEATURE)
        if self.gguf_file:
            require("gguf", extra="hf", feature=f"{FEATURE} with a .gguf file")
        _check_available(self.model, self.gguf_file, self.revision)
        from simulation.backends import constrained_decoding

        if self.structured_output == "json_schema":
            require("xgrammar", extra="hf", feature=constrained_decoding.FEATURE)
        elif self.structured_output == "auto" and not constrained_decoding.is_installed():
            self.prompt_only = True
            logger.warning("xgrammar is not installed: structured_output: auto holds %s to the JSON format by the "
                           "prompt alone (noted in the error column of each turn reply: '%s'); pip install "
                           "'alignment-backfire[hf]' installs it", self.model, PROMPT_ONLY_NOTE)

    def connection_key(self) -> str:
        return f"transformers:{self.model}"

    @property
    def is_constrained(self) -> bool:
        """Turn replies are decoded under the reply schema (json_schema, or auto with xgrammar installed)."""
        return self.structured_output != "none" and not self.prompt_only

    def cache_variant(self) -> str:
        """Constrained replies are other completions than the prompt-only ones cached before (see ``Backend``);
        prompt-only replies keep the keys they always had."""
        return "structured_output=json_schema" if self.is_constrained else ""

    def is_endpoint_error(self, error: Exception) -> bool:
        """The local model's own failure: running out of GPU memory on a batch (stored as failed calls, not
        retried). A model that cannot load is a ``StudyConfigError`` and stops the study; anything else raised
        while generating (a ``TypeError``, a shape error...) is a bug and stops it too."""
        torch = require("torch", extra="hf", feature="the transformers backend")

        return isinstance(error, torch.OutOfMemoryError) or super().is_endpoint_error(error)

    @property
    def max_batch_size(self) -> int:
        return self.max_connections

    def _load(self) -> Any:
        """Tokenizer and model, loaded once, on first use (loading takes seconds to minutes)."""
        if self._load_error is not None:  # a model that failed to load fails every later batch at once
            raise self._load_error
        if self._loaded is None:
            torch = require("torch", extra="hf", feature=FEATURE)
            transformers = require("transformers", extra="hf", feature=FEATURE)
            device, dtype = pick_device(torch, self.device)
            extra: dict[str, Any] = {"gguf_file": self.gguf_file} if self.gguf_file else {}
            if self.revision:
                extra["revision"] = self.revision
            started = time.perf_counter()
            try:
                tokenizer = transformers.AutoTokenizer.from_pretrained(self.model, **extra)
                model = transformers.AutoModelForCausalLM.from_pretrained(self.model, dtype=dtype, **extra)
                model = model.to(device)
            except (OSError, ValueError) as exc:
                self._load_error = StudyConfigError(
                    f"cannot load model '{self.model}': {exc}", field="models[].name",
                    fix="use a local folder, or a hub id already in the Hugging Face cache (nothing is downloaded "
                        "when HF_HUB_OFFLINE=1)")
                raise self._load_error from exc
            model.eval()
            commit = getattr(model.config, "_commit_hash", None) or self.revision
            self.served_model = f"{self.model}@{commit}" if commit else self.model
            tokenizer.padding_side = "left"
            if tokenizer.pad_token_id is None:
                tokenizer.pad_token = tokenizer.eos_token
            logger.info("loaded %s on %s (%s) in %.1f s", self.model, device, dtype,
                        time.perf_counter() - started)
            self._loaded = (tokenizer, model, device)
        return self._loaded

    async def generate(self, messages: list[Message], config: GenerationConfig) -> Reply:
        loop = asyncio.get_running_loop()
        pending = _Pending(messages, config, loop.create_future())
        self._queue.append(pending)
        if self._consumer is None or self._consumer.done():
            self._wakeup = asyncio.Event()
            self._consumer = loop.create_task(self._consume())
        self._wakeup.set()
        return await pending.future

    async def _consume(self) -> None:
        """One consumer: while a batch generates, new calls queue up and form the next batch (up to
        ``max_batch_size``), so the model is never idle while calls wait and never runs two batches at once."""
        while True:
            await self._wakeup.wait()
            self._wakeup.clear()
            await asyncio.sleep(0)  # let the calls made in this loop iteration (a turn's agents) join
            while self._queue:
                batch, self._queue = self._queue[:self.max_batch_size], self._queue[self.max_batch_size:]
                try:
                    replies = await asyncio.to_thread(self._generate_batch, [(p.messages, p.config) for p in batch])
                except Exception as exc:  # every call of the batch fails with it; the retry wrapper classifies it
                    for pending in batch:
                        if not pending.future.done():
                            pending.future.set_exception(exc)
                    continue
                for pending, reply in zip(batch, replies, strict=True):
                    if not pending.future.done():
                        pending.future.set_result(reply)

    async def aclose(self) -> None:
        if self._consumer is not None:
            self._consumer.cancel()
            self._consumer = None

    def _generate_batch(self, calls: list[tuple[list[Message], GenerationConfig]]) -> list[Reply]:
        """One ``generate`` over the batch (one at a time: a model is not shared between threads)."""
        torch = require("torch", extra="hf", feature=FEATURE)

        with self._generate_lock:
            tokenizer, model, device = self._load()
            started = time.perf_counter()
            prompts = [render_chat(tokenizer, messages) for messages, _ in calls]
            encoded = tokenizer(prompts, return_tensors="pt", padding=True, add_special_tokens=False).to(device)
            max_new = max(config.max_tokens for _, config in calls)
            prompt_length = encoded["input_ids"].shape[1]
            sampler = SeededGumbelSampler([config.seed for _, config in calls],
                                          [config.temperature for _, config in calls],
                                          prompt_length=prompt_length, top_ps=[config.top_p for _, config in calls])
            stops = _stop_ids(model, tokenizer)
            grammar = self._grammar_processor(calls, tokenizer, model, stops, prompt_length)
            with torch.inference_mode():
                output = model.generate(**encoded, max_new_tokens=max_new, do_sample=False,
                                        logits_processor=[p for p in (grammar, sampler) if p is not None],
                                        pad_token_id=tokenizer.pad_token_id, temperature=None, top_p=None,
                                        top_k=None)
            self.batches.append(len(calls))
            latency_ms = (time.perf_counter() - started) * 1000
            new_tokens = output[:, prompt_length:]
            replies = []
            for row, (_, config) in enumerate(calls):
                tokens = new_tokens[row][:config.max_tokens].tolist()
                end = next((i for i, token in enumerate(tokens) if token in stops), None)
                if end is not None:  # stopped by itself; what follows is the batch's padding
                    tokens, finish = tokens[:end], None
                else:  # cut off at max_tokens: OpenAI's finish_reason "length", stored as truncated
                    finish = "finish_reason=length" if len(tokens) >= config.max_tokens else None
                if grammar is not None and grammar.closed_by_budget[row]:  # closed early, but cut all the same
                    finish = BUDGET_CLOSED
                note = PROMPT_ONLY_NOTE if self.prompt_only and not is_probe(config) else None
                replies.append(Reply(text=tokenizer.decode(tokens, skip_special_tokens=True),
                                     status="truncated" if finish else "ok",
                                     tokens_in=int(encoded["attention_mask"][row].sum()), tokens_out=len(tokens),
                                     latency_ms=latency_ms, error="; ".join(filter(None, [finish, note])) or None,
                                     served_model=self.served_model))
            return replies

    def _grammar_processor(self, calls: list[tuple[list[Message], GenerationConfig]], tokenizer: Any, model: Any,
                           stops: set[int], prompt_length: int) -> Any:
        """The reply-schema processor of a batch whose turn rows are constrained; None when no row is."""
        from simulation.backends.constrained_decoding import TurnGrammarProcessor, compile_turn_grammar

        budgets = [config.max_tokens if self.is_constrained and not is_probe(config) else None for _, config in calls]
        if all(budget is None for budget in budgets):
            return None
        if self._grammar is None:  # compiled once per model: the tokenizer's vocabulary is scanned once
            started = time.perf_counter()
            self._grammar = compile_turn_grammar(tokenizer, model.get_output_embeddings().weight.shape[0], stops)
            logger.info("compiled the reply schema for %s in %.2f s", self.model, time.perf_counter() - started)
        return TurnGrammarProcessor(self._grammar, budgets, prompt_length=prompt_length)


def _stop_ids(model: Any, tokenizer: Any) -> set[int]:
    """Every token that ends a reply: the generation config's eos ids (Gemma, Qwen... have several) and the
    tokenizer's."""
    configured = getattr(getattr(model, "generation_config", None), "eos_token_id", None)
    ids = set(configured if isinstance(configured, list) else [configured] if configured is not None else [])
    if tokenizer.eos_token_id is not None:
        ids.add(tokenizer.eos_token_id)
    return ids


def _check_available(model: str, gguf_file: str | None, revision: str | None = None) -> None:
    """Fail before any call when the model is neither a local folder nor in the hub cache (offline)."""
    import os
    from pathlib import Path

    if Path(model).expanduser().is_dir():
        if gguf_file and not (Path(model).expanduser() / gguf_file).is_file():
            raise StudyConfigError(f"no file {gguf_file} in {model}", field="models[].gguf_file",
                                   fix="name the .gguf file inside the model folder")
        return
    if model.startswith((".", "/", "~")):
        raise StudyConfigError(f"model folder {model} does not exist", field="models[].name",
                               fix="give the folder that holds config.json (or the .gguf file) and the tokenizer")
    if os.environ.get("HF_HUB_OFFLINE") in ("1", "true", "True"):
        hub = require("huggingface_hub", extra="hf", feature=FEATURE)
        if not isinstance(hub.try_to_load_from_cache(model, gguf_file or "config.json", revision=revision), str):
            raise StudyConfigError(f"model '{model}' is not in the local Hugging Face cache and HF_HUB_OFFLINE=1",
                                   field="models[].name", fix="download it where the hub is reachable "
                                                              "(huggingface-cli download ...) or give a folder")


def render_chat(tokenizer: Any, messages: list[Message]) -> str:
    """The prompt through the model's chat template; templates without a system role get it merged into the
    first user message."""
    chat = [{"role": m.role, "content": m.content} for m in messages]
    try:
        return str(tokenizer.apply_chat_template(chat, tokenize=False, add_generation_prompt=True))
    except Exception as exc:  # jinja raises TemplateError for "System role not supported"
        if not chat or chat[0]["role"] != "system" or len(chat) < 2:
            raise StudyConfigError(f"the model's chat template rejects these messages: {exc}",
                                   field="models[].name", fix="use an instruct model with a chat template") from exc
        merged = [{"role": "user", "content": chat[0]["content"] + "\n\n" + chat[1]["content"]}, *chat[2:]]
        return str(tokenizer.apply_chat_template(merged, tokenize=False, add_generation_prompt=True))


class SeededGumbelSampler:
    """A logits processor that turns greedy decoding into per-row seeded sampling (see the module doc).

    Rows with temperature 0 or no seed stay greedy; other rows add Gumbel noise from their own generator,
    seeded by (call seed, step), to logits / temperature. A row's ``top_p`` under 1 first drops the tokens
    outside the nucleus (the smallest set of most likely tokens whose probability reaches ``top_p``), so the
    argmax draws from the renormalized nucleus.
    """

    def __init__(self, seeds: list[int | None], temperatures: list[float], *, prompt_length: int,
                 top_ps: list[float | None] | None = None) -> None:
        self.seeds = seeds
        self.temperatures = temperatures
        self.prompt_length = prompt_length
        self.top_ps = top_ps or [None] * len(seeds)

    def __call__(self, input_ids: Any, scores: Any) -> Any:
        torch = require("torch", extra="hf", feature=FEATURE)

        step = input_ids.shape[1] - self.prompt_length
        scores = scores.float()
        for row, (seed, temperature) in enumerate(zip(self.seeds, self.temperatures, strict=True)):
            if temperature <= 0 or seed is None:  # greedy, as documented: no seed, no random draw
                continue
            generator = torch.Generator(device="cpu").manual_seed((seed * 1_000_003 + step) % (2**63))
            uniform = torch.rand(scores.shape[1], generator=generator).clamp_(1e-20, 1.0 - 1e-7)
            gumbel = -torch.log(-torch.log(uniform)).to(scores.device)
            scaled = scores[row] / temperature
            top_p = self.top_ps[row]
            if top_p is not None and top_p < 1:
                scaled = _nucleus(torch, scaled, top_p)
            scores[row] = scaled + gumbel
        return scores


def _nucleus(torch: Any, logits: Any, top_p: float) -> Any:
    """``logits`` with every token outside the top-``top_p`` nucleus set to -inf (the most likely token stays)."""
    ordered, order = torch.sort(logits, descending=True)
    probs = torch.softmax(ordered, dim=-1)
    outside = torch.cumsum(probs, dim=-1) - probs >= top_p  # the mass before a token already reached top_p
    masked = logits.clone()
    masked[order[outside]] = float("-inf")
    return masked
