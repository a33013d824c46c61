"""Which scorers ``backfire scorers evaluate`` validates: the ``--scorer`` specs it is given (any registered
stance scorer, the lexicon included), else every registered scorer that builds without options or a model
download and takes a stance (the metric-v1 lexicon, and a later lexicon once it is registered)."""

from __future__ import annotations

from collections.abc import Sequence

from core.errors import BackfireError
from scoring.base import Scorer
from scoring.registry import build_scorer, scorer_registrations
from scoring.spec import parse_scorer
from scoring.validation.stance import stance_family


def default_scorer_specs() -> list[str]:
    """Registered scorers whose options all have defaults and whose dimensions carry a stance."""
    specs = []
    for registration in scorer_registrations():
        if any(f.is_required() for f in registration.options.model_fields.values()):
            continue  # a model scorer or the judge: it needs a model or an endpoint, named with --scorer
        if stance_family(registration.factory(registration.options())) is not None:
            specs.append(registration.name)
    return specs


def evaluation_scorers(specs: Sequence[str] | None) -> list[Scorer]:
    """Build the scorers to evaluate; every spec is checked before any model loads.

    Raises:
        BackfireError: a bad spec, or a scorer that takes no stance (langid, embedding).
    """
    chosen = list(specs) if specs else default_scorer_specs()
    entries = [parse_scorer(text, any_scorer=True) for text in chosen]
    scorers = [build_scorer(entry) for entry in entries]
    for text, scorer in zip(chosen, scorers, strict=True):
        if stance_family(scorer) is None:
            raise BackfireError(f"--scorer {text!r}: {scorer.name} has no pathology/protective dimensions, so the "
                                "gold set cannot validate it", field="--scorer",
                                fix="evaluate stance scorers: lexicon, classifier, zero-shot or judge")
    return scorers
