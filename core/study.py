"""Study configuration: the YAML schema, and loading with errors that name the file, the field and the fix."""

from __future__ import annotations

import datetime as dt
import difflib
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Literal, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from core.errors import StudyConfigError, combine


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Options(BaseModel):
    """Base of the options model a backend or scorer registers: unknown keys are errors, and each field's
    docstring is its description (quoted in the fix when a required option is missing). A backend or scorer
    without options registers this model itself."""

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)


SYNTHETIC_MODEL_PREFIX = "synthetic:"
"""Prefix of a synthetic-backend model in the ``model`` column, so no table row reads as the real model."""


def bare_model_name(stored: str) -> str:
    """The model name as the study wrote it (what the synthetic backend's effects file is keyed by)."""
    return stored.removeprefix(SYNTHETIC_MODEL_PREFIX)


class ModelSpec(BaseModel):
    """One model under evaluation: the settings every backend shares, plus its backend's own options.

    ``backend`` names a registered backend (``synthetic``, ``openai``, ``transformers``, ...). Every other key of
    the entry (``base_url``, ``api_key_env``, ``device``...) is an option of that backend: it is kept as written
    (``options()``) and checked against the options model the backend registers (``simulation.backends``)
    when the study is checked, before anything is written or spent.
    """

    model_config = ConfigDict(extra="allow")

    name: str = Field(min_length=1)
    """Model id as the endpoint knows it (e.g. ``gpt-4o-mini``); the synthetic backend looks up its profile."""
    backend: str = "synthetic"
    snapshot: str | None = Field(default=None, min_length=1)
    """The exact model version to ask an API endpoint for (e.g. ``gpt-4o-mini-2024-07-18``), sent as the request's
    model id in place of ``name``, which stays the label in every table. Unpinned aliases move: the marts warn
    when the served model differs from the requested one. Endpoint backends only (the synthetic backend ignores
    it, so a study can carry its pin offline; ``transformers`` pins with its ``revision`` option)."""
    temperature: float = Field(default=0.7, ge=0.0, le=2.0)
    top_p: float | None = Field(default=None, gt=0.0, le=1.0)
    """Nucleus sampling mass; None sends none (the endpoint's default, 1.0 for OpenAI)."""
    max_tokens: int = Field(default=400, gt=0)
    max_concurrency: int = Field(default=16, ge=1, le=1024)
    """Calls in flight at once to this model's endpoint."""
    timeout_s: float = Field(default=120.0, gt=0)
    """Seconds before one call is abandoned and retried."""
    max_retries: int = Field(default=4, ge=0, le=20)
    """Retries of a call on 429, 5xx, timeouts and connection errors, with exponential backoff and jitter."""
    price_per_1k_input_usd: float = Field(default=0.0, ge=0)
    price_per_1k_output_usd: float = Field(default=0.0, ge=0)
    seed: int | None = 0
    """Mixed into the per-call seed sent to the endpoint (derived from run, turn and agent); a new value draws
    new replies. ``null`` sends no seed, for endpoints that reject the parameter."""
    max_reasks: int = Field(default=2, ge=0, le=5)
    """Times a reply that is not readable JSON with talk/monologue is asked again before it is stored as
    ``parse_error``."""

    def options(self) -> dict[str, Any]:
        """The backend's own options, as written (every key that is not a common setting above)."""
        return dict(self.model_extra or {})

    @property
    def stored_name(self) -> str:
        """The ``model`` column of its runs and utterances (and so of every mart).

        A synthetic-backend model is stored as ``synthetic:<name>``: ``synthetic:gpt-4o-mini`` can never be read
        as a measurement of GPT-4o mini. ``name`` stays what the study wrote (the effects-file key).
        """
        if self.backend == "synthetic" and not self.name.startswith(SYNTHETIC_MODEL_PREFIX):
            return SYNTHETIC_MODEL_PREFIX + self.name
        return self.name


def variable_name_only(name: str | None) -> str | None:
    """``api_key_env`` names a variable; a key pasted in its place would be stored with the results."""
    if name is not None and not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
        raise ValueError("api_key_env must name an environment variable (e.g. OPENAI_API_KEY), not hold a key")
    return name


_CREDENTIAL_HEADERS = {"authorization", "proxy-authorization", "cookie"}


def headers_without_credentials(headers: dict[str, str]) -> dict[str, str]:
    """Extra HTTP headers are stored with the results, so none may carry a credential."""
    secret_like = [h for h in headers if h.lower() in _CREDENTIAL_HEADERS or "key" in h.lower()
                   or "token" in h.lower() or "secret" in h.lower()]
    if secret_like:
        raise ValueError(f"extra_headers must not carry credentials ({', '.join(secret_like)}): study files "
                         "are stored with the results; put the key in an environment variable and name it in "
                         "api_key_env")
    return headers


class Design(_Strict):
    """The factorial grid: languages x models x aligned shares x individuation x replicates."""

    languages: list[str] = Field(min_length=1)
    aligned_shares: list[float] = Field(min_length=1)
    """Share of the group that gets the alignment prefix; each must be in [0, 1] and give a whole k."""
    replicates: int = Field(gt=0)
    n_agents: int = Field(default=10, ge=2, le=50)
    n_turns: int = Field(default=15, ge=1, le=15)
    """Turns of the scripted escalation (the scenario has 15 events)."""
    individuation: list[bool] = Field(default_factory=lambda: [False], min_length=1)
    """Conditions to cross: ``[false]``, or ``[false, true]`` for Study 3."""
    individuated_agents: int = Field(default=3, ge=0)
    """Agents who get the individuation instruction in runs where individuation is on."""
    history_window: int = Field(default=3, ge=1)
    """Past turns of public talk each agent sees."""
    probe_turns: list[int] = Field(default_factory=list)
    """Turns after which every agent is asked the pack's internal-state interview (one extra call each);
    answers go to the ``probe`` channel. Empty by default: probes cost calls."""
    wordings: list[str] = Field(default_factory=lambda: ["base"], min_length=1)
    """Alignment-prefix wordings to cross (wording controls): ``base`` (the pack's own) and paraphrase ids of the
    packs' ``alignment_prefix_variants`` (e.g. ``[base, p1, p2, p3]``); every language must have each one."""

    @field_validator("languages")
    @classmethod
    def _unique_languages(cls, languages: list[str]) -> list[str]:
        if len(set(languages)) != len(languages):
            raise ValueError("languages must be unique")
        return languages

    @field_validator("wordings")
    @classmethod
    def _unique_wordings(cls, wordings: list[str]) -> list[str]:
        if len(set(wordings)) != len(wordings):
            raise ValueError("wordings must be unique")
        return wordings

    @field_validator("individuation")
    @classmethod
    def _unique_conditions(cls, conditions: list[bool]) -> list[bool]:
        if len(set(conditions)) != len(conditions):
            raise ValueError("individuation conditions must be unique: [false], [true] or [false, true]")
        return conditions

    @field_validator("aligned_shares")
    @classmethod
    def _shares_in_range(cls, shares: list[float]) -> list[float]:
        for share in shares:
            if not 0.0 <= share <= 1.0:
                raise ValueError(f"aligned share {share} is outside [0, 1]")
        if len(set(shares)) != len(shares):
            raise ValueError("aligned shares must be unique")
        return sorted(shares)

    @model_validator(mode="after")
    def _whole_agents(self) -> Design:
        for share in self.aligned_shares:
            k = share * self.n_agents
            if abs(k - round(k)) > 1e-9:
                raise ValueError(f"aligned share {share} of {self.n_agents} agents is not a whole number of agents")
        for turn in self.probe_turns:
            if not 1 <= turn <= self.n_turns:
                raise ValueError(f"probe turn {turn} is outside 1..{self.n_turns}")
        if len(set(self.probe_turns)) != len(self.probe_turns):
            raise ValueError("probe turns must be unique")
        if self.individuated_agents > self.n_agents:
            raise ValueError(f"individuated_agents ({self.individuated_agents}) exceeds n_agents ({self.n_agents})")
        return self


class Budget(_Strict):
    """Limits that stop a study cleanly, with everything finished so far saved (cache hits are free)."""

    max_cost_usd: float | None = Field(default=None, gt=0)
    """Stop launching calls once the priced cost of this invocation reaches this many dollars."""
    max_calls: int | None = Field(default=None, gt=0)
    """Stop launching calls once this many endpoint calls were made in this invocation."""
    max_error_share: float = Field(default=0.5, gt=0, le=1)
    """Stop when this share of the invocation's calls failed after every retry (checked from 20 calls on):
    a broken endpoint or key should not burn through a study storing error rows."""
    max_parse_error_share: float | None = Field(default=0.5, gt=0, le=1)
    """Stop when this share of the invocation's turn replies ended ``parse_error`` after every re-ask (checked
    from 20 replies on): a model that does not write the JSON format pays three calls per reply for nothing.
    ``null`` never stops (to study the format failures themselves)."""


class ScorerEntry(BaseModel):
    """A model-based scorer the scoring stage runs after the lexicon (``backfire score --scorer`` takes the
    same settings as ``NAME:MODEL?key=value&...``).

    ``name`` is a registered scorer (``langid``, ``classifier``, ...); every other key (``model``,
    ``languages``...) is an option of that scorer, checked against the options model it registers
    (``scoring.registry``) before any model loads.
    """

    model_config = ConfigDict(extra="allow")

    name: str = Field(min_length=1)

    def options(self) -> dict[str, Any]:
        """The scorer's own options, as written (the keyword arguments its registered options model checks)."""
        return dict(self.model_extra or {})


ExcludableStatus = Literal["truncated", "parse_error", "error", "refused"]
"""Reply statuses an exclusion rule may name (``ok`` replies are always measured)."""

DEFAULT_EXCLUDE_STATUSES: tuple[ExcludableStatus, ...] = ("error", "parse_error", "truncated")
DEFAULT_MAX_EXCLUSION_DIFFERENCE = 0.05
DEFAULT_MAX_TRUNCATED_SHARE = 0.05
DEFAULT_MIN_LANGUAGE_FIDELITY = 0.8
DEFAULT_P_ADJUST = "holm"
DEFAULT_ALPHA = 0.05
DEFAULT_METRIC_SPEC = "v1"
MetricSpec = Literal["v1", "v1.1"]

ZscoreReference = Literal["language", "study", "baseline"]
"""Population of the CPI/DI z-scores (docs/metrics.md, Reference population): ``language`` = the runs of the
same study x language x model x date; ``study`` = every language of the study x model x date pooled;
``baseline`` = the aligned-share-0 runs (without individuation) of the same study x language x model x date."""

PAdjust = Literal["holm", "bh", "none"]
"""Multiplicity adjustment of the effect tables' p-values within a study x metric family: Holm (family-wise
error), Benjamini-Hochberg (false discovery rate), or none (raw p; for sensitivity checks only)."""


class Analysis(_Strict):
    """Analysis choices fixed before the results are seen, recorded with the study (``raw.studies``) and applied
    by the marts to every arm alike (docs/metrics.md, Exclusions)."""

    exclude_statuses: list[ExcludableStatus] = Field(default_factory=lambda: list(DEFAULT_EXCLUDE_STATUSES))
    """Replies with these statuses stay stored but enter no measure (``truncated``: cut off at ``max_tokens``;
    ``parse_error``: no readable talk/monologue; ``error``: no reply; ``refused``: a refusal, kept by default
    since refusing is itself a protective behaviour). ``error`` must be listed: a failed call has no text."""
    max_exclusion_difference: float = Field(default=DEFAULT_MAX_EXCLUSION_DIFFERENCE, ge=0, le=1)
    """The effect tables flag ``differential_exclusion`` when the excluded shares of the lowest and highest
    aligned-share arms differ by more than this (absolute difference of proportions, 0.05 = 5 points)."""
    p_adjust: PAdjust = DEFAULT_P_ADJUST
    """How the effect tables adjust p-values across a study x metric family (every language and model of one
    metric): ``direction`` and the scorecard's counts read the adjusted p, ``p_value`` keeps the raw one."""
    alpha: float = Field(default=DEFAULT_ALPHA, gt=0, lt=1)
    """Significance level of ``direction`` (on the adjusted p) and of the scorecard's interaction test."""
    metric_spec: MetricSpec = DEFAULT_METRIC_SPEC
    """Which lexicon the v1 columns of the marts read: ``v1`` (surface forms, paper-faithful: scorer ``lexicon``)
    or ``v1.1`` (lemmas, negation, quotation and echo: scorer ``lexicon-v1.1``, which the scoring stage then also
    runs). One spec per study, so no mart cell mixes the two; ``metric_spec`` in the marts says which."""

    @field_validator("exclude_statuses")
    @classmethod
    def _error_is_excluded(cls, statuses: list[ExcludableStatus]) -> list[ExcludableStatus]:
        if "error" not in statuses:
            raise ValueError("exclude_statuses must list error: a failed call stored no text to measure")
        if len(set(statuses)) != len(statuses):
            raise ValueError("exclude_statuses must be unique")
        return sorted(statuses)


class Quality(_Strict):
    """Data-quality floors the blocking contracts hold the study to (recorded in ``raw.studies``)."""

    max_truncated_share: float = Field(default=DEFAULT_MAX_TRUNCATED_SHARE, ge=0, le=1)
    """The utterances contract fails when more than this share of a language's calls in the study were cut off
    at ``max_tokens`` (status ``truncated``); the fix is a larger ``models[].max_tokens``."""
    min_language_fidelity: float = Field(default=DEFAULT_MIN_LANGUAGE_FIDELITY, ge=0, le=1)
    """The scores contract fails when a language's share of replies detected in the run's language (``langid``
    scores) is under this; ``--min-language-fidelity`` on ``backfire run`` overrides it."""


class Study(_Strict):
    """A study file under ``studies/``."""

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    description: str = ""
    seed: int = Field(ge=0)
    """Root of every random draw (which agents are aligned, persona order, synthetic behaviour)."""
    scenario: str = "closed_facility"
    design: Design
    models: list[ModelSpec] = Field(min_length=1)
    evaluation_date: dt.date | None = None
    """Set for dated evaluations (the nightly job); it then enters every run_id."""
    zscore_reference: ZscoreReference = "language"
    """Population over which CPI/DI z-scores are taken (recorded in the marts; ``marts.reference_sensitivity``
    shows the effects under all three). ``study_language``, the former name of ``language``, is still read."""
    replication_target: str | None = None
    """Which published study this reproduces (study1..study4), for the replication scorecard."""
    budget: Budget = Field(default_factory=Budget)
    scorers: list[ScorerEntry] = Field(default_factory=list)
    """Model-based scorers (metric v2) run after the lexicon scorer, which always runs."""
    analysis: Analysis = Field(default_factory=Analysis)
    """Which replies the metrics exclude, and the margin of the differential-exclusion flag."""
    quality: Quality = Field(default_factory=Quality)
    """Floors of the blocking contracts: truncated share of calls, language fidelity."""

    @field_validator("zscore_reference", mode="before")
    @classmethod
    def _renamed_reference(cls, value: Any) -> Any:
        return "language" if value == "study_language" else value

    @field_validator("models")
    @classmethod
    def _unique_models(cls, models: list[ModelSpec]) -> list[ModelSpec]:
        names = [m.name for m in models]
        if len(set(names)) != len(names):
            raise ValueError("model names must be unique")
        return models


def _field_path(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


_FIXES = {
    "missing": "add this field (see studies/demo.yaml)",
    "extra_forbidden": "remove it or check its spelling (see docs/configuration.md)",
    "greater_than": "use a larger number",
    "greater_than_equal": "use a larger number",
    "less_than": "use a smaller number",
    "less_than_equal": "use a smaller number",
    "too_short": "give at least one value",
    "int_parsing": "write a whole number, e.g. 3",
    "int_type": "write a whole number, e.g. 3",
    "int_from_float": "write a whole number, e.g. 3",
    "float_parsing": "write a number, e.g. 0.5",
    "float_type": "write a number, e.g. 0.5",
    "bool_parsing": "write true or false",
    "bool_type": "write true or false",
    "string_type": "write text (quote it when YAML would read it as a number or a date)",
    "list_type": "write a list, e.g. [en, ja]",
    "dict_type": "write a mapping of key: value lines",
    "model_type": "write a mapping of key: value lines",
    "literal_error": "use one of the values named in the message",
    "enum": "use one of the values named in the message",
    "date_from_datetime_parsing": "write an ISO date, YYYY-MM-DD",
    "date_parsing": "write an ISO date, YYYY-MM-DD",
}

_PATTERNS = {  # a pattern a field must match, in words, and the fix
    r"^[a-z0-9][a-z0-9_-]*$": ("may contain only lowercase letters a-z, digits, '-' and '_', and must start with "
                               "a letter or a digit", "rename it, e.g. my-study-2"),
    r"^[a-z0-9_]+$": ("may contain only lowercase letters a-z, digits and '_'", "rename it, e.g. persona_1"),
}


def _in_words(error: Any) -> tuple[str, str]:
    """A pydantic error as (problem, fix) in words: no regex, no pydantic jargon where a better phrase exists."""
    kind, value = error["type"], error.get("input")
    shown = f" (got {value!r})" if isinstance(value, str | int | float | bool) and kind != "missing" else ""
    if kind == "string_pattern_mismatch":
        pattern = (error.get("ctx") or {}).get("pattern", "")
        words, fix = _PATTERNS.get(pattern, (f"does not have the expected form ({pattern})", "see "
                                             "docs/configuration.md"))
        what = next((str(part) for part in reversed(error["loc"]) if isinstance(part, str)), "value")
        return f"{value!r} is not a valid {what}: a {what} {words}", fix
    if kind == "missing":
        return "this field is required", _FIXES["missing"]
    if kind == "extra_forbidden":
        return "not a known field", _FIXES["extra_forbidden"]
    message = error["msg"].removeprefix("Value error, ")
    return message + shown, _FIXES.get(kind, "see docs/configuration.md for what this field takes")


def _config_errors(exc: ValidationError, source: str) -> StudyConfigError:
    """Every mistake pydantic found, one ``StudyConfigError`` each (field, problem in words, fix), combined."""
    errors = []
    for error in exc.errors():
        problem, fix = _in_words(error)
        errors.append(StudyConfigError(problem, file=source, field=_field_path(error["loc"]), fix=fix))
    return combine(errors)  # type: ignore[return-value]


def parse_study(data: Any, source: str) -> Study:
    """Validate already-parsed YAML; ``source`` names the file in errors, which list every mistake at once."""
    if not isinstance(data, dict):
        raise StudyConfigError("must be a YAML mapping with name, seed, design and models", file=source,
                               fix="start from studies/demo.yaml")
    try:
        return Study.model_validate(data)
    except ValidationError as exc:
        raise _config_errors(exc, source) from exc


OptionsT = TypeVar("OptionsT", bound=BaseModel)


def check_options(schema: type[OptionsT], options: Mapping[str, Any], *, owner: str, field: str = "",
                  file: str | None = None, common: Iterable[str] = ()) -> OptionsT:
    """Validate one entry's own options against the options model its backend or scorer registered.

    Args:
        schema: the registered options model (an ``Options`` subclass: unknown keys are errors).
        options: the entry's own keys (``ModelSpec.options()``, ``ScorerEntry.options()``).
        owner: whose options they are, in messages: ``backend 'openai'``, ``scorer 'judge'``.
        field: the entry's path (``models[0]``); errors name ``<field>.<option>``.
        file: the study file (or ``--scorer``) the entry came from.
        common: the entry's common settings, suggested when an unknown key looks like one misspelled.

    Returns:
        The validated options.

    Raises:
        StudyConfigError: naming the file, the field path, the problem and the fix, e.g.
            ``models[0].gguf_file: not an option of backend 'openai'. Fix: remove it, or use one of base_url, ...``.
    """
    try:
        return schema.model_validate(dict(options))
    except ValidationError as exc:
        errors = sorted(exc.errors(), key=lambda e: e["type"] != "extra_forbidden")  # a misspelled key first
        raise combine([_option_error(e, schema, owner=owner, field=field, file=file, common=common)
                       for e in errors]) from exc


def _option_error(error: Any, schema: type[BaseModel], *, owner: str, field: str, file: str | None,
                  common: Iterable[str]) -> StudyConfigError:
    """One pydantic error of an entry's options, in words, with its own fix."""
    loc, kind = error["loc"], error["type"]
    key = str(loc[0]) if loc else ""
    path = ".".join(part for part in (field, _field_path(loc) if loc else "") if part) or None
    allowed = list(schema.model_fields)
    if kind == "extra_forbidden":
        problem = f"not an option of {owner}"
        fix = f"remove it, or use one of {', '.join(allowed)}" if allowed else f"remove it ({owner} takes no options)"
        close = difflib.get_close_matches(key, [*allowed, *common], n=1, cutoff=0.75)
        if close:
            fix = f"did you mean {close[0]}? Otherwise {fix}"
    elif kind == "missing" and key in schema.model_fields:
        problem = f"{owner} needs a {key}"
        about = schema.model_fields[key].description
        fix = f"add {key}" + (f" ({about[:1].lower()}{about[1:].rstrip('.')})" if about else "")
    else:
        problem = error["msg"].removeprefix("Value error, ")
        fix = _FIXES.get(kind, "see docs/configuration.md")
    return StudyConfigError(problem, file=file, field=path, fix=fix)


def load_study(path: str | Path) -> Study:
    """Read and validate a study file; every failure is a ``StudyConfigError`` naming file and field."""
    path = Path(path)
    if not path.is_file():
        raise StudyConfigError("file not found", file=str(path), fix="pass a path such as studies/demo.yaml")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else None
        raise StudyConfigError(f"is not valid YAML ({getattr(exc, 'problem', exc)})", file=str(path),
                               field=where, fix="correct the YAML syntax there") from exc
    return parse_study(data, str(path))


class RunOverrides(_Strict):
    """What one command or launch changes in a study file: the one typed model from the CLI through the launcher
    to the Dagster ``study`` resource (which inherits these fields, so the launchpad shows the same ones).

    Field types are those Dagster config accepts (the date is an ISO string). ``model`` replaces the study's
    model list with that one model (``backend``, default ``openai``, with ``base_url``, ``api_key_env`` and
    ``concurrency``); otherwise ``backend`` and the endpoint fields apply to every listed model
    (``backend: synthetic`` keeps each model's own planted profile; a model whose backend changes keeps its
    common settings and drops its old backend's options).
    """

    languages: list[str] | None = Field(default=None, description="Override design.languages.")
    replicates: int | None = Field(default=None, gt=0, description="Override design.replicates.")
    backend: str | None = Field(default=None, description="Override every model's backend (e.g. synthetic).")
    model: str | None = Field(default=None, description="Run this one model instead of the study's list.")
    base_url: str | None = Field(default=None, description="OpenAI-compatible endpoint for the models.")
    api_key_env: str | None = Field(default=None, description="NAME of the environment variable with the key.")
    concurrency: int | None = Field(default=None, gt=0, description="Calls in flight per model endpoint.")
    evaluation_date: str | None = Field(default=None, description="ISO date of a dated (nightly) evaluation.")
    max_cost_usd: float | None = Field(default=None, description="Override budget.max_cost_usd (the CLI passes "
                                       "what is left of the command's budget to each language).")
    max_calls: int | None = Field(default=None, description="Override budget.max_calls (as max_cost_usd).")
    no_cache: bool = Field(default=False, description="Do not read the response cache (answers are still "
                           "written to it).")
    keep_failed_turns: bool = Field(default=False, description="Do not play again turns whose calls finally "
                                    "failed; by default they (and the turns after them) are retried.")
    min_language_fidelity: float | None = Field(default=None, ge=0, le=1, description="Override "
                                                "quality.min_language_fidelity (the scores contract's floor).")

    @field_validator("api_key_env")
    @classmethod
    def _variable_name(cls, name: str | None) -> str | None:
        return variable_name_only(name)

    @field_validator("evaluation_date")
    @classmethod
    def _iso_date(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                dt.date.fromisoformat(value)
            except ValueError as exc:
                raise ValueError(f"evaluation_date {value!r} is not an ISO date (YYYY-MM-DD)") from exc
        return value

    def set_fields(self) -> dict[str, Any]:
        """Only what this override changes (for run config and for narrowing another override)."""
        return self.model_dump(include=set(RunOverrides.model_fields), exclude_defaults=True)

    def merged(self, **changes: Any) -> RunOverrides:
        """A copy with more fields set, validated again."""
        return RunOverrides.model_validate({**self.set_fields(), **changes})

    def apply(self, study: Study, source: str = "command line") -> Study:
        """A copy of ``study`` with these overrides applied and validated again (errors name ``source``)."""
        data = study.model_dump(mode="json")
        if self.languages:
            data["design"]["languages"] = self.languages
        if self.replicates is not None:
            data["design"]["replicates"] = self.replicates
        if self.model:
            data["models"] = [{"name": self.model, "backend": self.backend or "openai"}]
        endpoint = {"backend": self.backend, "base_url": self.base_url, "api_key_env": self.api_key_env,
                    "max_concurrency": self.concurrency}
        for entry in data["models"]:
            if self.backend and entry["backend"] != self.backend:  # the old backend's options are not the new one's
                for key in set(entry) - set(ModelSpec.model_fields):
                    del entry[key]
            entry.update({key: value for key, value in endpoint.items() if value is not None})
        if self.evaluation_date:
            data["evaluation_date"] = self.evaluation_date
        limits = {"max_cost_usd": self.max_cost_usd, "max_calls": self.max_calls}
        data["budget"].update({key: value for key, value in limits.items() if value is not None})
        if self.min_language_fidelity is not None:
            data["quality"]["min_language_fidelity"] = self.min_language_fidelity
        return parse_study(data, source)


def parse_overrides(values: dict[str, Any], source: str = "command line") -> RunOverrides:
    """``RunOverrides`` from loose values (CLI arguments), with the study file's error shape."""
    try:
        return RunOverrides.model_validate({k: v for k, v in values.items() if v is not None})
    except ValidationError as exc:
        raise _config_errors(exc, source) from exc
