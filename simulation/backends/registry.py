"""Backends register by name: a lazy factory, the options model of their study settings and, optionally, a
run-id fingerprint. Shared code builds any backend through ``backend_for_model``; adding one edits nothing here.

A registration::

    class MyOptions(Options):
        endpoint: str
        \"\"\"Where the model is served.\"\"\"

    @register_backend("mine", options=MyOptions)
    def _mine(model: ModelSpec, options: MyOptions) -> Backend:
        from mypackage.backend import MyBackend  # heavy imports stay inside the factory

        return MyBackend(model.name, options.endpoint, max_connections=model.max_concurrency)

A study then writes ``backend: mine`` and ``endpoint: ...`` in a model entry; ``endpoint`` is checked against
``MyOptions`` (with the field path and the fix in the error) before anything is written or spent.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import Field, field_validator

from core.errors import StudyConfigError
from core.study import ModelSpec, Options, check_options, headers_without_credentials, variable_name_only
from simulation.backends.base import Backend

BackendFactory = Callable[[ModelSpec, Any], Backend]
"""Builds the backend of one study model from the model's common settings and its validated options."""
Fingerprint = Callable[[ModelSpec, str], str]
"""What, beyond the model's settings, makes a (model, language)'s output what it is; it enters every run_id."""
RequestId = Callable[[ModelSpec, Any], str]
"""The model id a backend asks for, from the model and its validated options (default: ``snapshot`` or ``name``)."""


@dataclass(frozen=True)
class BackendRegistration:
    name: str
    factory: BackendFactory
    options: type[Options]
    fingerprint: Fingerprint | None
    request_id: RequestId | None = None


_BACKENDS: dict[str, BackendRegistration] = {}


def register_backend(name: str, *, options: type[Options] = Options, fingerprint: Fingerprint | None = None,
                     request_id: RequestId | None = None) -> Callable[[BackendFactory], BackendFactory]:
    """Register ``factory(model, options)`` as the backend ``name``.

    Args:
        name: what a study's ``backend:`` says.
        options: the pydantic model (``core.study.Options``: unknown keys are errors) of the backend's own
            settings in a model entry; the factory receives them validated. The default has none.
        fingerprint: ``(model, language) -> str`` mixed into every run_id of the backend (default: nothing);
            return a hash of whatever besides the model's settings decides its output.
        request_id: ``(model, options) -> str``, the model id the backend asks for (recorded per run as
            ``requested_model`` and compared with the served model); default ``model.snapshot or model.name``.
    """
    def decorate(factory: BackendFactory) -> BackendFactory:
        _BACKENDS[name] = BackendRegistration(name, factory, options, fingerprint, request_id)
        return factory

    return decorate


def backend_names() -> list[str]:
    return sorted(_BACKENDS)


def _registration(name: str, field: str = "models[].backend", file: str | None = None) -> BackendRegistration:
    registration = _BACKENDS.get(name)
    if registration is None:
        raise StudyConfigError(f"unknown backend '{name}'", file=file, field=field,
                               fix=f"use one of {', '.join(backend_names())} (or --backend synthetic)")
    return registration


def backend_options(model: ModelSpec, *, field: str = "models[]", file: str | None = None) -> Options:
    """The model's backend options, validated against its backend's registered options model.

    Raises:
        StudyConfigError: for an unknown backend, or an option the backend does not have or rejects, naming
            ``<field>.<option>`` and the fix.
    """
    registration = _registration(model.backend, f"{field}.backend", file)
    return check_options(registration.options, model.options(), owner=f"backend '{model.backend}'", field=field,
                         file=file, common=ModelSpec.model_fields)


def backend_for_model(model: ModelSpec) -> Backend:
    """Build the backend of one study model (``ModelSpec``): each model gets its own endpoint and limits."""
    return _registration(model.backend).factory(model, backend_options(model))


def backend_fingerprint(model: ModelSpec, language: str) -> str:
    """The registered run-id fingerprint of the model's backend for one language ("" when it has none)."""
    registration = _registration(model.backend)
    return registration.fingerprint(model, language) if registration.fingerprint else ""


def requested_model_id(model: ModelSpec) -> str:
    """The model id the model's backend asks for: its pinned ``snapshot`` (or ``name@revision``) or its name.

    An unregistered backend (a test's stand-in) asks for ``snapshot or name``, like a backend without a hook.
    """
    registration = _BACKENDS.get(model.backend)
    if registration is None or registration.request_id is None:
        return model.snapshot or model.name
    return registration.request_id(model, backend_options(model))


# -- the built-in backends ---------------------------------------------------------------------------------------


def _planted_profile_hash(model: ModelSpec, language: str) -> str:
    """The synthetic backend's planted profile for (model, language), from synthetic_effects.yaml: changing a
    planted effect makes new runs for the cells it changes, and only those."""
    from simulation.backends.synthetic import profile_hash

    return profile_hash(model.name, language)


@register_backend("synthetic", fingerprint=_planted_profile_hash, request_id=lambda model, _: model.name)
def _synthetic(model: ModelSpec, options: Options) -> Backend:
    from simulation.backends.synthetic import SyntheticBackend

    return SyntheticBackend()


class OpenAIOptions(Options):
    """Options of the ``openai`` backend (any OpenAI-compatible chat endpoint)."""

    base_url: str | None = None
    """Endpoint of the OpenAI-compatible server (default https://api.openai.com/v1)."""
    api_key_env: str | None = None
    """NAME of the environment variable holding the key; the key itself never goes in a study file."""
    transport: Literal["lean", "sdk"] = "lean"
    """HTTP path: lean (aiohttp, ~10x less CPU per call) or sdk (AsyncOpenAI)."""
    extra_headers: dict[str, str] = Field(default_factory=dict)
    """Extra HTTP headers for every call (e.g. OpenAI-Organization); credentials go in api_key_env."""
    structured_output: Literal["auto", "json_schema", "json_object", "none"] = "auto"
    """How turn replies are held to the talk/monologue JSON: json_schema (the schema as response_format; vLLM,
    llama.cpp, Ollama and OpenAI constrain decoding to it), json_object (JSON mode), none (the prompt alone), or
    auto (json_schema, falling back to the prompt alone for the rest of the run when the endpoint rejects it).
    The probe interview is free text and never gets one. Any value but auto enters the run_id."""

    @field_validator("api_key_env")
    @classmethod
    def _looks_like_a_variable_name(cls, name: str | None) -> str | None:
        return variable_name_only(name)

    @field_validator("extra_headers")
    @classmethod
    def _no_credentials_in_headers(cls, headers: dict[str, str]) -> dict[str, str]:
        return headers_without_credentials(headers)


@register_backend("openai", options=OpenAIOptions)
def _openai(model: ModelSpec, options: OpenAIOptions) -> Backend:
    from simulation.backends.openai_compatible import OpenAICompatibleBackend

    return OpenAICompatibleBackend(base_url=options.base_url or "https://api.openai.com/v1",
                                   api_key_env=options.api_key_env, timeout_s=model.timeout_s,
                                   max_connections=model.max_concurrency, transport=options.transport,
                                   extra_headers=dict(options.extra_headers),
                                   structured_output=options.structured_output)


class TransformersOptions(Options):
    """Options of the ``transformers`` backend (a local Hugging Face chat model named by the model's name)."""

    device: str = "auto"
    """auto (CUDA with bf16/fp16 when present, else CPU), cpu, cuda:0..."""
    gguf_file: str | None = None
    """A .gguf file inside the model folder or hub repo (needs the gguf package)."""
    revision: str | None = None
    """A hub revision (commit, tag or branch) to load, as the model scorers take it; the commit actually loaded
    is recorded with every reply (``served_model`` = ``name@commit``)."""
    structured_output: Literal["auto", "json_schema", "none"] = "auto"
    """How turn replies are held to the talk/monologue JSON: json_schema (decoding masked to the reply schema by
    xgrammar, each reply closed within max_tokens), none (the prompt alone), or auto (json_schema when xgrammar is
    installed, else the prompt alone, noted in each reply's error). The probe interview stays free text. Any value
    but auto enters the run_id."""

    @field_validator("structured_output", mode="before")
    @classmethod
    def _no_json_mode(cls, value: Any) -> Any:
        if value == "json_object":
            raise ValueError("json_object is an endpoint's JSON mode, not a mode of the transformers backend: use "
                             "json_schema (the local model is held to the reply schema itself), auto or none")
        return value


def _transformers_request_id(model: ModelSpec, options: TransformersOptions) -> str:
    """``name@revision`` when a revision is pinned. A ``snapshot`` is an API model id, not a local model's pin."""
    if model.snapshot:
        raise StudyConfigError(f"snapshot '{model.snapshot}' is for API endpoints", field="models[].snapshot",
                               fix="pin a Hugging Face model with the transformers option revision: <commit or tag>")
    return f"{model.name}@{options.revision}" if options.revision else model.name


@register_backend("transformers", options=TransformersOptions, request_id=_transformers_request_id)
def _transformers(model: ModelSpec, options: TransformersOptions) -> Backend:
    from simulation.backends.transformers_local import TransformersBackend

    _transformers_request_id(model, options)
    return TransformersBackend(model=model.name, device=options.device, gguf_file=options.gguf_file,
                               revision=options.revision, max_connections=model.max_concurrency,
                               structured_output=options.structured_output)
