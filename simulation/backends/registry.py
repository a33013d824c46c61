"""Backends register lazy factories by name; a factory imports its module only when asked for."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from simulation.backends.base import Backend
from simulation.errors import StudyConfigError

BackendFactory = Callable[..., Backend]
_FACTORIES: dict[str, BackendFactory] = {}


def register_backend(name: str) -> Callable[[BackendFactory], BackendFactory]:
    def decorate(factory: BackendFactory) -> BackendFactory:
        _FACTORIES[name] = factory
        return factory

    return decorate


def backend_names() -> list[str]:
    return sorted(_FACTORIES)


def get_backend(name: str, **options: Any) -> Backend:
    """Build a backend by its registry name (``synthetic``, ...)."""
    factory = _FACTORIES.get(name)
    if factory is None:
        raise StudyConfigError(f"unknown backend '{name}'", field="models[].backend",
                               fix=f"use one of {', '.join(backend_names())}")
    return factory(**options)


@register_backend("synthetic")
def _synthetic(**options: Any) -> Backend:
    from simulation.backends.synthetic import SyntheticBackend

    return SyntheticBackend(**options)
