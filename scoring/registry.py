"""Scorers register by name: a lazy factory (heavy libraries load only when a scorer is built) and the options
model of their settings. A study's ``scorers`` entries and ``backfire score --scorer`` specs are checked
against these options models before any model loads; adding a scorer edits nothing here.

A registration::

    class MyOptions(Options):
        model: str
        \"\"\"Hub id or local folder.\"\"\"

    @register_scorer("mine", options=MyOptions)
    def _mine(options: MyOptions) -> Scorer:
        from mypackage.scorer import MyScorer  # heavy imports stay inside the factory

        return MyScorer(options.model)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import Field, field_validator

from core.errors import BackfireError, StudyConfigError, combine
from core.study import Options, ScorerEntry, check_options, variable_name_only
from scoring.base import Scorer

ScorerFactory = Callable[[Any], Scorer]
"""Builds a scorer from its validated options."""
ALWAYS_RUNS = "lexicon"
"""The metric-v1 scorer the scoring stage always runs; a study does not list it."""


@dataclass(frozen=True)
class ScorerRegistration:
    name: str
    factory: ScorerFactory
    options: type[Options]


_SCORERS: dict[str, ScorerRegistration] = {}


def register_scorer(name: str, *, options: type[Options] = Options) -> Callable[[ScorerFactory], ScorerFactory]:
    """Register ``factory(options)`` as the scorer ``name``.

    Args:
        name: what a study's ``scorers[].name`` and ``--scorer NAME`` say.
        options: the pydantic model (``core.study.Options``: unknown keys are errors) of the scorer's
            settings; the factory receives them validated. The default has none.
    """
    def decorate(factory: ScorerFactory) -> ScorerFactory:
        _SCORERS[name] = ScorerRegistration(name, factory, options)
        return factory

    return decorate


def scorer_names() -> list[str]:
    return sorted(_SCORERS)


def scorer_registrations() -> list[ScorerRegistration]:
    """Every registration, in registration order (``backfire scorers evaluate`` picks its defaults here)."""
    return list(_SCORERS.values())


def listable_scorer_names() -> list[str]:
    """The scorers a study or ``--scorer`` may name, in registration order (the lexicon always runs)."""
    return [name for name in _SCORERS if name != ALWAYS_RUNS]


def scorer_options(name: str, options: dict[str, Any], *, field: str = "", file: str | None = None) -> Options:
    """A scorer's options, validated against its registered options model.

    Args:
        name: the scorer.
        options: its settings as written.
        field: the entry's path in errors (``scorers[0]``); empty for ``--scorer``.
        file: the study file.

    Raises:
        StudyConfigError: an unknown scorer, or an option the scorer lacks or rejects, with the field and the fix.
    """
    registration = _SCORERS.get(name)
    if registration is None:
        raise StudyConfigError(f"unknown scorer '{name}'", file=file, field=".".join(p for p in (field, "name") if p),
                               fix=f"use one of {', '.join(listable_scorer_names())}")
    return check_options(registration.options, options, owner=f"scorer '{name}'", field=field, file=file)


def check_scorer_entry(entry: ScorerEntry, *, field: str = "", file: str | None = None) -> Options:
    """One ``scorers`` entry or parsed ``--scorer``: a scorer a study may name, with valid options."""
    if entry.name == ALWAYS_RUNS:
        raise StudyConfigError("the lexicon scorer always runs", file=file,
                               field=".".join(p for p in (field, "name") if p),
                               fix=f"remove it, or name one of {', '.join(listable_scorer_names())}")
    return scorer_options(entry.name, entry.options(), field=field, file=file)


def check_scorers(entries: Sequence[ScorerEntry], source: str = "study") -> None:
    """Check a study's ``scorers`` entries (names and options) before any model loads or anything is spent."""
    errors: list[BackfireError] = []
    for i, entry in enumerate(entries):
        try:
            check_scorer_entry(entry, field=f"scorers[{i}]", file=source)
        except BackfireError as exc:  # every entry's problem at once
            errors.append(exc)
    if errors:
        raise combine(errors)


def get_scorer(name: str, **options: Any) -> Scorer:
    """Build a scorer by its registry name from its options (validated first)."""
    validated = scorer_options(name, options)
    return _SCORERS[name].factory(validated)


def build_scorer(entry: ScorerEntry) -> Scorer:
    """A scorer from a study's ``scorers`` entry or a parsed ``--scorer``."""
    return get_scorer(entry.name, **entry.options())


# -- the built-in scorers ----------------------------------------------------------------------------------------


@register_scorer("lexicon")
def _lexicon(options: Options) -> Scorer:
    from scoring.lexicon_scorer import LexiconScorer

    return LexiconScorer()


@register_scorer("lexicon-v1.1")
def _lexicon_v11(options: Options) -> Scorer:
    from scoring.stance_lexicon_scorer import StanceLexiconScorer

    return StanceLexiconScorer()


@register_scorer("langid")
def _langid(options: Options) -> Scorer:
    from scoring.langid import LangIdScorer

    return LangIdScorer()


class ModelScorerOptions(Options):
    """Options of the scorers that run a local Hugging Face model (zero-shot, embedding; classifier adds labels)."""

    model: str = Field(min_length=1)
    """A hub id in the local Hugging Face cache or a local folder."""
    languages: list[str] | None = None
    """Languages the model covers (else its config.json must say); other languages are abstained on."""
    batch_size: int = Field(default=64, gt=0)
    device: str = "auto"
    precision: Literal["auto", "fp32", "fp16", "bf16"] = "auto"
    revision: str | None = None
    max_length: int | None = Field(default=None, gt=0)
    """Tokens an input is truncated at (default: 256 for classifier and zero-shot, the model's
    ``max_seq_length`` for embedding), never more than the model takes."""


class ClassifierOptions(ModelScorerOptions):
    labels: dict[str, Literal["pathology", "protective", "none"]] | None = None
    """Model label -> dimension (default: toxicity-like labels are pathology)."""


@register_scorer("classifier", options=ClassifierOptions)
def _classifier(options: ClassifierOptions) -> Scorer:
    from scoring.classifier import ClassifierScorer

    return ClassifierScorer(**options.model_dump(exclude_none=True))


@register_scorer("zero-shot", options=ModelScorerOptions)
def _zero_shot(options: ModelScorerOptions) -> Scorer:
    from scoring.zero_shot import ZeroShotScorer

    return ZeroShotScorer(**options.model_dump(exclude_none=True))


@register_scorer("embedding", options=ModelScorerOptions)
def _embedding(options: ModelScorerOptions) -> Scorer:
    from scoring.embedding import EmbeddingScorer

    return EmbeddingScorer(**options.model_dump(exclude_none=True))


class JudgeOptions(Options):
    """Options of the ``judge`` scorer (an LLM through an OpenAI-compatible endpoint)."""

    model: str = Field(min_length=1)
    """The endpoint's model name."""
    base_url: str
    """The OpenAI-compatible endpoint."""
    api_key_env: str | None = None
    """NAME of the environment variable holding the endpoint's key (never the key itself; default OPENAI_API_KEY)."""
    languages: list[str] | None = None
    batch_size: int = Field(default=64, gt=0)
    """Calls in flight at once."""

    @field_validator("api_key_env")
    @classmethod
    def _variable_name(cls, name: str | None) -> str | None:
        return variable_name_only(name)


@register_scorer("judge", options=JudgeOptions)
def _judge(options: JudgeOptions) -> Scorer:
    from scoring.judge import JudgeScorer

    return JudgeScorer(**options.model_dump(exclude_none=True))
