"""Backends register lazy factories by name; a factory imports its module only when asked for."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from core.errors import StudyConfigError
from simulation.backends.base import Backend

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


def backend_fingerprint(name: str, model: str = "", language: str = "") -> str:
    """What, beyond the model settings, makes this backend's output what it is; it enters every run_id.

    For the synthetic backend that is the planted profile of the run's (model, language), resolved from
    synthetic_effects.yaml: changing a planted effect makes new runs for the cells it changes, and only those.
    """
    if name == "synthetic":
        from dataclasses import asdict

        from core.ids import stable_hash
        from simulation.backends.synthetic import resolve_profile

        return stable_hash(asdict(resolve_profile(model, language)))
    return ""


@register_backend("synthetic")
def _synthetic(**options: Any) -> Backend:
    from simulation.backends.synthetic import SyntheticBackend

    return SyntheticBackend(**options)


@register_backend("openai")
def _openai(**options: Any) -> Backend:
    from simulation.backends.openai_compatible import OpenAICompatibleBackend

    return OpenAICompatibleBackend(**options)


@register_backend("transformers")
def _transformers(**options: Any) -> Backend:
    from simulation.backends.transformers_local import TransformersBackend

    return TransformersBackend(**options)


def backend_for_model(model: Any) -> Backend:
    """Build the backend of one study model (``ModelSpec``): each model gets its own endpoint and limits."""
    if model.backend == "openai":
        return get_backend("openai", base_url=model.base_url or "https://api.openai.com/v1",
                           api_key_env=model.api_key_env, timeout_s=model.timeout_s,
                           max_connections=model.max_concurrency, transport=model.transport,
                           extra_headers=dict(model.extra_headers))
    if model.backend == "transformers":
        return get_backend("transformers", model=model.name, device=model.device, gguf_file=model.gguf_file,
                           max_connections=model.max_concurrency)
    return get_backend(model.backend)
