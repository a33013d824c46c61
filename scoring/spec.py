"""``--scorer NAME[:MODEL][?key=value&...]`` into the study's scorer entry (one validation for both).

Examples: ``langid``, ``classifier:/models/tox?languages=en,de&labels=toxic:pathology``,
``embedding:sentence-transformers/paraphrase-multilingual-MiniLM-L12-v2?languages=en,ja&batch_size=256``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

from pydantic import ValidationError

from core.errors import BackfireError, StudyConfigError
from core.study import ScorerEntry
from scoring.registry import check_scorer_entry, listable_scorer_names, scorer_names, scorer_options


def parse_scorer(text: str, *, any_scorer: bool = False) -> ScorerEntry:
    """Parse and check one ``--scorer`` spec against the scorer's registered options model (no model loads).

    ``any_scorer`` also takes the scorers a study never lists (the lexicon, which always runs): what
    ``backfire scorers evaluate`` validates.
    """
    head, _, query = text.partition("?")
    name, _, model = head.partition(":")
    data: dict[str, Any] = {"name": name.strip()}
    if model:
        data["model"] = model
    try:
        pairs = parse_qsl(query, keep_blank_values=True, strict_parsing=bool(query))
    except ValueError as exc:  # a malformed query
        raise BackfireError(f"--scorer {text!r}: {exc}", field="--scorer",
                            fix="write options as ?key=value&key=value") from exc
    for key, value in pairs:
        if key == "languages":
            data[key] = [code.strip() for code in value.split(",") if code.strip()]
        elif key == "labels":
            data[key] = dict(pair.rsplit(":", 1) for pair in value.split(",") if ":" in pair)
        else:
            data[key] = value
    try:
        entry = ScorerEntry.model_validate(data)
        if any_scorer:
            scorer_options(entry.name, entry.options())
        else:
            check_scorer_entry(entry)
    except ValidationError as exc:  # an empty name
        raise BackfireError(f"--scorer {text!r}: name: {exc.errors()[0]['msg']}", field="--scorer",
                            fix=f"use NAME[:MODEL][?key=value&...] with NAME one of "
                                f"{', '.join(scorer_names() if any_scorer else listable_scorer_names())} "
                                "(see docs/configuration.md)") from exc
    except StudyConfigError as exc:
        raise BackfireError(f"--scorer {text!r}: {exc.field}: {exc.problem}", field="--scorer",
                            fix=exc.fix) from exc
    return entry
