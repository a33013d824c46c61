"""The talk/monologue reply format as a JSON schema: one definition for every backend that can hold a model to it.

The openai backend sends it as ``response_format`` (the server constrains decoding); the transformers backend
compiles it into a grammar that masks the model's logits. Either way a probe interview is free text and gets
none. Importing this module imports nothing heavy.
"""

from __future__ import annotations

from typing import Any

from simulation.backends.base import GenerationConfig

TURN_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"talk": {"type": "string"}, "monologue": {"type": "string"}},
    "required": ["talk", "monologue"],
    "additionalProperties": False,
}
"""The schema of a turn's reply, as ``parsing.parse_reply`` reads it."""

PROMPT_ONLY = "structured_output=prompt-only"
"""How every reply made without the schema under ``structured_output: auto`` begins its note in the ``error``
column (the backend adds why), so one query finds the fallbacks of every backend."""


def is_probe(config: GenerationConfig) -> bool:
    """The call is the internal-state interview: free text, never held to the reply schema."""
    return config.context is not None and config.context.is_probe
