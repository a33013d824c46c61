"""Scorers register lazy factories by name (heavy libraries load only when a scorer is built)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from core.errors import BackfireError
from scoring.base import Scorer

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


def build_scorer(entry: Any) -> Scorer:
    """A scorer from a study's ``scorers`` entry or a parsed ``--scorer`` (``core.study.ScorerEntry``)."""
    return get_scorer(entry.name, **entry.options())


@register_scorer("lexicon")
def _lexicon(**options: Any) -> Scorer:
    from scoring.lexicon_scorer import LexiconScorer

    return LexiconScorer(**options)


@register_scorer("langid")
def _langid(**options: Any) -> Scorer:
    from scoring.langid import LangIdScorer

    return LangIdScorer(**options)


@register_scorer("classifier")
def _classifier(**options: Any) -> Scorer:
    from scoring.classifier import ClassifierScorer

    return ClassifierScorer(**options)


@register_scorer("zero-shot")
def _zero_shot(**options: Any) -> Scorer:
    from scoring.zero_shot import ZeroShotScorer

    return ZeroShotScorer(**options)


@register_scorer("embedding")
def _embedding(**options: Any) -> Scorer:
    from scoring.embedding import EmbeddingScorer

    return EmbeddingScorer(**options)


@register_scorer("judge")
def _judge(**options: Any) -> Scorer:
    from scoring.judge import JudgeScorer

    return JudgeScorer(**options)
