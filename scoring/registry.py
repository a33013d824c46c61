"""Scorers register lazy factories by name; ``get_scorer("lexicon")`` builds one."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from scoring.base import Scorer
from simulation.errors import BackfireError

ScorerFactory = Callable[..., Scorer]
_FACTORIES: dict[str, ScorerFactory] = {}


def register_scorer(name: str) -> Callable[[ScorerFactory], ScorerFactory]:
    def decorate(factory: ScorerFactory) -> ScorerFactory:
        _FACTORIES[name] = factory
        return factory

    return decorate


def scorer_names() -> list[str]:
    return sorted(_FACTORIES)


def get_scorer(name: str, **options: Any) -> Scorer:
    factory = _FACTORIES.get(name)
    if factory is None:
        raise BackfireError(f"unknown scorer '{name}'", field="--scorer", fix=f"use one of {', '.join(scorer_names())}")
    return factory(**options)


@register_scorer("lexicon")
def _lexicon(**options: Any) -> Scorer:
    from scoring.lexicon_scorer import LexiconScorer

    return LexiconScorer(**options)
