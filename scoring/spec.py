"""``--scorer NAME[:MODEL][?key=value&...]`` into the study's scorer entry (one validation for both).

Examples: ``langid``, ``classifier:/models/tox?languages=en,de&labels=toxic:pathology``,
``embedding:sentence-transformers/paraphrase-multilingual-MiniLM-L12-v2?languages=en,ja&batch_size=256``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

from pydantic import ValidationError

from core.errors import BackfireError
from core.study import ScorerEntry


def parse_scorer(text: str) -> ScorerEntry:
    head, _, query = text.partition("?")
    name, _, model = head.partition(":")
    data: dict[str, Any] = {"name": name.strip()}
    if model:
        data["model"] = model
    for key, value in parse_qsl(query, keep_blank_values=True, strict_parsing=bool(query)):
        if key == "languages":
            data[key] = [code.strip() for code in value.split(",") if code.strip()]
        elif key == "labels":
            data[key] = dict(pair.rsplit(":", 1) for pair in value.split(",") if ":" in pair)
        else:
            data[key] = value
    try:
        return ScorerEntry.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "name"
        raise BackfireError(f"--scorer {text!r}: {where}: {first['msg'].removeprefix('Value error, ')}",
                            field="--scorer", fix="use NAME[:MODEL][?key=value&...] with NAME one of langid, "
                                                  "classifier, zero-shot, embedding, judge (see "
                                                  "docs/configuration.md)"
                            ) from exc
    except ValueError as exc:  # parse_qsl on a malformed query
        raise BackfireError(f"--scorer {text!r}: {exc}", field="--scorer",
                            fix="write options as ?key=value&key=value") from exc
