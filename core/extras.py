"""Optional dependencies: every import of a library that comes with an extra goes through ``require``.

A missing one then fails as a ``MissingExtraError`` (one line on the CLI, exit code 2) that names the
package, the feature that needs it and the install command, instead of an ``ImportError`` traceback.
Call it inside the function that needs the library: heavy libraries are never imported at module import.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from core.errors import MissingExtraError

EXTRAS = {
    "hf": ("torch", "transformers", "sentence_transformers", "huggingface_hub", "accelerate", "gguf", "xgrammar"),
    "openai": ("openai", "aiohttp", "httpx2"),
    "view": ("aiohttp",),
}
"""The extras of pyproject.toml ([project.optional-dependencies]) and the top-level modules they install
(their own dependencies included, e.g. openai's httpx2): these are imported only through ``require``."""


def require(module: str, *, extra: str, feature: str) -> ModuleType:
    """Import ``module`` (``"transformers"``, ``"transformers.utils.logging"``...) and return it.

    Args:
        module: the dotted module name.
        extra: the pyproject extra that installs it (``hf`` or ``openai``).
        feature: what needs it, for the message (``"the embedding scorer"``).

    Returns:
        The imported module.

    Raises:
        MissingExtraError: the module (or a module it needs) cannot be imported.
    """
    if module.split(".")[0] not in EXTRAS.get(extra, ()):  # a programming error, not the user's
        raise ValueError(f"{module} is not installed by an extra named {extra!r} (see core.extras.EXTRAS)")
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingExtraError(feature, extra, module=(exc.name or module).split(".")[0]) from exc
