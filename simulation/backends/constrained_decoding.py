"""Constrained decoding for the transformers backend: a turn's reply can only be the ``TURN_SCHEMA`` JSON.

Why xgrammar: it is the grammar engine vLLM and SGLang use for their ``response_format``, so a local model is
held to the reply schema the way a served one is; it compiles the schema against the tokenizer once (a
bitmask of allowed tokens per step, in C++), runs on CPU and CUDA, installs from PyPI as a wheel and needs no
download at run time. (lm-format-enforcer does its per-token work in Python, outlines pulls a much larger
stack, transformers-cfg takes EBNF rather than a JSON schema; llguidance is a fine engine but has no ready
transformers logits processor.)

Why a token budget: a grammar alone lets a weak model stay inside a string as long as it likes, so a
random-weight or tiny model would still reach ``max_tokens`` with the JSON open. When a row has only
``CLOSING_RESERVE`` tokens left, wherever the grammar allows a token that starts with ``"`` only those are
allowed: the open string closes, the grammar forces the rest of the object (``any_whitespace=False`` leaves no
room for padding), then the stop token. A reply closed that way was cut by its budget: the backend stores it as
``truncated``, as a reply cut off at ``max_tokens`` is stored without a grammar.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from core.extras import require
from simulation.backends.reply_schema import TURN_SCHEMA

FEATURE = "structured_output: json_schema on the transformers backend"
_LONGEST_CLOSE = '", "monologue": ""}'
"""What closes a reply cut inside its talk string (the longest way from any point of the object to its end)."""
CLOSING_RESERVE = len("\\u0000") + 3 + len(_LONGEST_CLOSE) + 1
"""Tokens kept to close a reply: an open ``\\u`` escape, the rest of a multi-byte character (at most 3 byte
tokens), the closing text at one token per character (byte-level and byte-fallback tokenizers have a token
for every byte) and the stop."""


def is_installed() -> bool:
    """Whether xgrammar can be imported (without importing it: that loads torch and transformers)."""
    try:
        return importlib.util.find_spec("xgrammar") is not None
    except (ImportError, ValueError):  # a broken install, or a module entry without a spec
        return False


@dataclass(frozen=True)
class TurnGrammar:
    """The reply schema compiled for one tokenizer (compiled once per loaded model, reused by every batch)."""

    compiled: Any
    """The xgrammar ``CompiledGrammar``."""
    vocab_size: int
    """Width of the model's logits (may exceed the tokenizer's vocabulary)."""
    opens_with_quote: Any
    """A bool tensor over the vocabulary: the tokens whose bytes start with ``"`` (they close a string)."""


def compile_turn_grammar(tokenizer: Any, vocab_size: int, stop_ids: Iterable[int]) -> TurnGrammar:
    """Compile ``TURN_SCHEMA`` for ``tokenizer``; ``stop_ids`` are the tokens that end a reply (the only ones the
    grammar allows once the object is complete)."""
    xgr = require("xgrammar", extra="hf", feature=FEATURE)
    torch = require("torch", extra="hf", feature=FEATURE)

    info = xgr.TokenizerInfo.from_huggingface(tokenizer, vocab_size=vocab_size, stop_token_ids=sorted(stop_ids))
    compiled = xgr.GrammarCompiler(info, max_threads=1).compile_json_schema(TURN_SCHEMA, any_whitespace=False)
    quotes = torch.zeros(vocab_size, dtype=torch.bool)
    for token_id, text in enumerate(info.decoded_vocab[:vocab_size]):
        quotes[token_id] = text.startswith(b'"')
    return TurnGrammar(compiled, vocab_size, quotes)


class TurnGrammarProcessor:
    """A logits processor for one ``generate`` call: masks the constrained rows to the grammar, and closes each
    within its own token budget (see the module doc). Free rows (probes, prompt-only calls) are left alone.

    Put it before the sampler: the sampler's nucleus and Gumbel draw then only see allowed tokens.
    """

    def __init__(self, grammar: TurnGrammar, budgets: Sequence[int | None], *, prompt_length: int) -> None:
        """Args:
            grammar: the compiled reply schema.
            budgets: per row, its ``max_tokens`` when the row is constrained, None when it is free text.
            prompt_length: length of the (left-padded) prompts, to count each row's generated tokens.
        """
        xgr = require("xgrammar", extra="hf", feature=FEATURE)

        self.grammar = grammar
        self.budgets = list(budgets)
        self.prompt_length = prompt_length
        self.matchers = [None if budget is None else xgr.GrammarMatcher(grammar.compiled) for budget in budgets]
        self.bitmask = xgr.allocate_token_bitmask(len(budgets), grammar.vocab_size)
        self.closed_by_budget = [False] * len(budgets)
        """Rows whose string the budget closed: their reply was cut, and is stored as truncated."""

    def __call__(self, input_ids: Any, scores: Any) -> Any:
        xgr = require("xgrammar", extra="hf", feature=FEATURE)

        step = input_ids.shape[1] - self.prompt_length
        live = []
        for row, matcher in enumerate(self.matchers):
            if matcher is None or matcher.is_terminated():
                continue
            if step > 0 and not matcher.accept_token(int(input_ids[row, -1])):
                raise RuntimeError(f"row {row} sampled a token its grammar forbids")  # a bug: the mask was skipped
            if not matcher.is_terminated():  # it has just accepted its stop token
                live.append((row, matcher))
        if not live:
            return scores
        self.bitmask.fill_(-1)
        for row, matcher in live:
            matcher.fill_next_token_bitmask(self.bitmask, row)
        scores = scores.float()
        # its C++ kernel on CPU; elsewhere plain torch ops (its CUDA default JIT-compiles a triton kernel, which
        # needs a compiler on the GPU machine and buys nothing at these batch sizes)
        backend = "cpu" if scores.device.type == "cpu" else "torch_native"
        xgr.apply_token_bitmask_inplace(scores, self.bitmask.to(scores.device), indices=[row for row, _ in live],
                                        backend=backend)
        for row, matcher in live:
            budget = self.budgets[row]
            if budget is not None and budget - step <= CLOSING_RESERVE and not matcher.is_completed():
                self._close(scores, row)
        return scores

    def _close(self, scores: Any, row: int) -> None:
        """Keep only the allowed tokens that start with ``"`` (when there are any and others were allowed too)."""
        allowed = scores[row] > float("-inf")
        quotes = self.grammar.opens_with_quote.to(scores.device)[: scores.shape[1]] & allowed
        if quotes.any() and (allowed & ~quotes).any():
            scores[row][~quotes] = float("-inf")
            self.closed_by_budget[row] = True
