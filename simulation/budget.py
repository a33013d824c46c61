"""Spending: the price of a call, the running total of an invocation, and the limits that stop it."""

from __future__ import annotations

from dataclasses import dataclass

from simulation.backends.base import Reply
from simulation.errors import BackfireError
from simulation.study import Budget, ModelSpec


class BudgetExhaustedError(BackfireError):
    """The study's budget is spent; finished turns and cached calls are kept, a rerun with more budget resumes."""


def call_cost_usd(model: ModelSpec, reply: Reply) -> float:
    if reply.cache_hit:
        return 0.0
    return (reply.tokens_in * model.price_per_1k_input_usd + reply.tokens_out * model.price_per_1k_output_usd) / 1000


@dataclass
class Spending:
    """Calls made and dollars spent in one invocation, checked against the study's budget before each call."""

    budget: Budget
    calls: int = 0
    cost_usd: float = 0.0

    def check(self) -> None:
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

    def record(self, model: ModelSpec, reply: Reply) -> None:
        if not reply.cache_hit:
            self.calls += 1
            self.cost_usd += call_cost_usd(model, reply)
