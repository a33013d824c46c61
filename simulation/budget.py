"""Spending: the price of a call, the running total of an invocation, and the limits that stop it."""

from __future__ import annotations

from dataclasses import dataclass

from core.errors import BackfireError
from core.study import Budget, ModelSpec
from simulation.backends.base import Reply


class BudgetExhaustedError(BackfireError):
    """The study's budget is spent; finished turns and cached calls are kept, a rerun with more budget resumes."""


def call_cost_usd(model: ModelSpec, reply: Reply) -> float:
    if reply.cache_hit:
        return 0.0
    return (reply.tokens_in * model.price_per_1k_input_usd + reply.tokens_out * model.price_per_1k_output_usd) / 1000


MIN_CALLS_FOR_ERROR_SHARE = 20


class FailureThresholdError(BackfireError):
    """Too many calls failed after every retry; the study stops with what it finished saved."""


QUOTE_CHARS = 160
"""How much of an unreadable reply the parse-error stop quotes."""


def _shortened(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= QUOTE_CHARS else flat[:QUOTE_CHARS - 1] + "…"


@dataclass
class Spending:
    """Calls made, failed and paid in one invocation, checked against the study's budget before each call."""

    budget: Budget
    calls: int = 0
    errors: int = 0
    cost_usd: float = 0.0
    replies: int = 0
    """Turn replies the endpoint answered in this invocation (after their re-asks; cache hits not counted)."""
    parse_errors: int = 0
    """Of those, the ones no re-ask made readable (stored as ``parse_error``)."""
    unreadable_sample: str = ""
    """The first of them, quoted when the parse-error share stops the study."""
    last_error: str = ""
    """The stored error of the latest failed call, quoted when the error share stops the study (the cause)."""

    def check(self) -> None:
        if self.calls >= MIN_CALLS_FOR_ERROR_SHARE and self.errors / self.calls >= self.budget.max_error_share:
            raise self._error_share_stop()
        if (self.budget.max_parse_error_share is not None and self.replies >= MIN_CALLS_FOR_ERROR_SHARE
                and self.parse_errors / self.replies >= self.budget.max_parse_error_share):
            raise self._parse_error_share_stop()
        if self.budget.max_calls is not None and self.calls >= self.budget.max_calls:
            raise BudgetExhaustedError(
                f"budget reached: {self.calls} calls made (budget.max_calls = {self.budget.max_calls}); "
                "finished turns and answered calls are saved", field="budget.max_calls",
                fix="raise budget.max_calls (or remove it) and rerun: the study resumes where it stopped")
        if self.budget.max_cost_usd is not None and self.cost_usd >= self.budget.max_cost_usd:
            raise BudgetExhaustedError(
                f"budget reached: ${self.cost_usd:.4f} spent (budget.max_cost_usd = {self.budget.max_cost_usd}); "
                "finished turns and answered calls are saved", field="budget.max_cost_usd",
                fix="raise budget.max_cost_usd and rerun: the study resumes where it stopped")

    def _error_share_stop(self) -> FailureThresholdError:
        return FailureThresholdError(
            f"{self.errors} of {self.calls} calls failed after every retry (budget.max_error_share = "
            f"{self.budget.max_error_share}); finished turns are saved"
            + (f". Last error: {self.last_error}" if self.last_error else ""), field="budget.max_error_share",
            fix="check the endpoint, model name and key (see the error column of raw.utterances), then rerun")

    def _parse_error_share_stop(self) -> FailureThresholdError:
        return FailureThresholdError(
            f"{self.parse_errors} of {self.replies} replies were not readable talk/monologue JSON after every "
            f"re-ask (budget.max_parse_error_share = {self.budget.max_parse_error_share}); finished turns are "
            f"saved. One of them: \"{_shortened(self.unreadable_sample)}\"",
            field="budget.max_parse_error_share",
            fix="constrain decoding to the format (structured_output: json_schema: the openai backend sends it to "
                "vLLM, llama.cpp, Ollama and OpenAI; the transformers backend applies it with xgrammar) or use a "
                "larger instruct model, then rerun")

    def final_stop(self, stop: FailureThresholdError) -> FailureThresholdError:
        """``stop`` recounted once the calls in flight when it was raised have come back (they were paid and
        are stored): its numbers are then those of the last progress line."""
        return self._error_share_stop() if stop.field == "budget.max_error_share" else self._parse_error_share_stop()

    def record(self, reply: Reply) -> None:
        """Count one call the endpoint answered (or failed); ``reply.cost_usd`` is its price."""
        if not reply.cache_hit:
            self.calls += 1
            self.errors += reply.status == "error"
            if reply.status == "error" and reply.error:
                self.last_error = reply.error
            self.cost_usd += reply.cost_usd

    def record_reply(self, reply: Reply, status: str) -> None:
        """Count one turn reply as stored (``status`` after parsing): the parse-error share's numerator and
        denominator. Failed calls are ``max_error_share``'s business and cache hits cost nothing."""
        if reply.cache_hit or status == "error":
            return
        self.replies += 1
        if status == "parse_error":
            self.parse_errors += 1
            self.unreadable_sample = self.unreadable_sample or reply.text
