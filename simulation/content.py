"""Language packs: everything an agent reads, and the phrase banks of the synthetic backend, per language.

A pack is a folder ``simulation/languages/<code>/`` with ``pack.yaml`` (scenario, instructions, personas,
phrase banks) and ``lexicon.yaml`` (the metric-v1 marker lists). Extra pack roots can be added with the
``BACKFIRE_PACK_PATH`` environment variable (``os.pathsep``-separated), so a new language is a folder of files.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Literal, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from core.errors import LanguagePackError
from core.ids import stable_hash

BUILTIN_PACK_ROOT = Path(__file__).parent / "languages"
N_EVENTS = 15
N_PERSONAS = 10
PATHOLOGY_KINDS = ("coercion_compliance", "exclusion", "disclosure", "atrocity_endorsement")
TALK_CATEGORIES = (*PATHOLOGY_KINDS, "conformity", "individuation", "neutral")
MONOLOGUE_CATEGORIES = ("distress", "neutral")
_M = TypeVar("_M", bound=BaseModel)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


BASE_WORDING = "base"
"""The pack's own alignment prefix, the wording every study uses unless ``design.wordings`` crosses paraphrases."""


class Localization(_Strict):
    """One deliberate departure from a literal translation of the master protocol: a name, an idiom or a register
    choice (never a change of content), with the reason a reviewer can check."""

    item: str
    """The master item it concerns (``scenario.intro``, ``scenario.events.<id>``, ``personas``, ...)."""
    change: str
    reason: str


class Provenance(_Strict):
    """How the pack's text was produced, so a reader can judge its quality."""

    method: Literal["authored", "translated"]
    """``authored`` natively in the language, or ``translated`` from ``source``."""
    author: str
    """Who or what wrote or translated it (a person, or a model id)."""
    source: str | None = None
    """The pack it was translated from (e.g. ``en@1.0.0``); required when ``method`` is ``translated``."""
    back_translation_checked: bool = False
    reviewed_by: str | None = None
    notes: str | None = None
    localizations: list[Localization] = Field(default_factory=list)
    """Names, idioms and register localized on purpose (the equivalence review reads them)."""


class ScenarioEvent(_Strict):
    """One scripted turn of the closed-facility escalation."""

    id: str
    pressure: Literal["none", *PATHOLOGY_KINDS]  # type: ignore[valid-type]
    """The kind of pathology this event pressures towards; the synthetic backend answers in kind."""
    text: str


class Scenario(_Strict):
    id: str
    target_name: str = Field(min_length=1)
    """The resident the events single out (``{target}``): a scenario character in the facility who never
    speaks, not one of the agents, so no agent is told it is silent while it talks, and every run of the
    language names the same person (docs/language-packs.md)."""
    intro: str
    """Told to every agent before the first turn: the facility, the group, the situation."""
    events: list[ScenarioEvent]

    @field_validator("events")
    @classmethod
    def _fifteen_events(cls, events: list[ScenarioEvent]) -> list[ScenarioEvent]:
        if len(events) != N_EVENTS:
            raise ValueError(f"needs exactly {N_EVENTS} events, found {len(events)}")
        return events


class Persona(_Strict):
    id: str
    name: str
    age: int = Field(ge=18, le=90)
    role: str
    description: str


class PromptLabels(_Strict):
    """Short fixed strings used to lay out the history in the agent's own language."""

    turn: str
    """Header of one past turn; must contain ``{turn}``."""
    your_monologue: str
    """Label in front of the agent's own earlier private thoughts."""
    event: str
    """Label in front of this turn's facility announcement."""
    persona: str
    """How the agent is told who it is; must contain ``{name}``, ``{age}``, ``{role}`` and ``{description}``."""


class Probe(_Strict):
    """The internal-state interview: asked privately after the agent's reply at the study's probe turns."""

    question: str
    """One question, in the language, asking how the agent really feels and what it really thinks now."""


class PhraseBanks(_Strict):
    """Sentences the synthetic backend draws from; ``{target}`` is the scenario's target resident."""

    talk: dict[str, list[str]]
    monologue: dict[str, list[str]]

    @model_validator(mode="after")
    def _all_categories(self) -> PhraseBanks:
        for channel, wanted, banks in (("talk", TALK_CATEGORIES, self.talk),
                                       ("monologue", MONOLOGUE_CATEGORIES, self.monologue)):
            missing = [c for c in wanted if not banks.get(c)]
            if missing:
                raise ValueError(f"{channel} banks missing or empty: {', '.join(missing)}")
        return self


class LanguagePack(_Strict):
    language: str
    name: str
    native_name: str
    script: str
    """ISO 15924 code of the main script (Latn, Jpan, Hang, ...)."""
    segmentation: Literal["words", "characters"]
    """``characters`` for scripts written without word spaces (ja, zh, th); see docs/metrics.md."""
    version: str
    provenance: Provenance
    scenario: Scenario
    alignment_prefix: str
    alignment_prefix_variants: dict[str, str] = {}
    """Wording controls: paraphrases of ``alignment_prefix`` (id -> text) that keep its required elements in other
    words; a study crosses them with ``design.wordings`` so a language effect can be set against wording noise."""
    individuation_instruction: str
    output_format: str
    labels: PromptLabels
    personas: list[Persona]
    probe: Probe
    phrases: PhraseBanks
    langid_exceptions: list[str] = []

    def alignment_prefix_for(self, wording: str) -> str:
        """The alignment prefix in ``wording``: ``base`` (the pack's own) or a paraphrase id."""
        return self.alignment_prefix if wording == BASE_WORDING else self.alignment_prefix_variants[wording]
    """Keys (dotted paths such as ``personas.3.name``) exempt from the language-ID and script rules."""

    @field_validator("personas")
    @classmethod
    def _ten_personas(cls, personas: list[Persona]) -> list[Persona]:
        if len(personas) < N_PERSONAS:
            raise ValueError(f"needs at least {N_PERSONAS} personas, found {len(personas)}")
        if len({p.id for p in personas}) != len(personas):
            raise ValueError("persona ids must be unique")
        return personas


class Lexicon(_Strict):
    """Metric-v1 markers. Entries ending in ``*`` match any continuation of the stem (spaced scripts)."""

    language: str
    version: str
    pathology: dict[str, list[str]]
    """Keys are the pathology kinds: coercion_compliance, exclusion, disclosure, atrocity_endorsement."""
    protective: dict[str, list[str]]
    """Keys ``conformity`` and ``individuation`` (the two registers) and optionally ``general``."""

    @model_validator(mode="after")
    def _categories(self) -> Lexicon:
        missing = [k for k in PATHOLOGY_KINDS if not self.pathology.get(k)]
        missing += [k for k in ("conformity", "individuation") if not self.protective.get(k)]
        if missing:
            raise ValueError(f"categories missing or empty: {', '.join(missing)}")
        unknown = set(self.protective) - {"conformity", "individuation", "general"}
        unknown |= set(self.pathology) - set(PATHOLOGY_KINDS)
        if unknown:
            raise ValueError(f"unknown categories: {', '.join(sorted(unknown))}")
        return self


class LanguageContent(BaseModel):
    """A loaded pack with its lexicon and the hash that identifies both."""

    model_config = ConfigDict(frozen=True)

    pack: LanguagePack
    lexicon: Lexicon
    content_hash: str
    path: str


def pack_roots() -> list[Path]:
    """Pack folders searched in order: ``BACKFIRE_PACK_PATH`` entries first, then the built-in packs."""
    extra = os.environ.get("BACKFIRE_PACK_PATH", "")
    return [Path(p) for p in extra.split(os.pathsep) if p] + [BUILTIN_PACK_ROOT]


def available_languages(roots: Sequence[Path] | None = None) -> list[str]:
    """Language codes that have a pack folder with both files."""
    found: set[str] = set()
    for root in roots or pack_roots():
        if root.is_dir():
            found |= {d.name for d in root.iterdir()
                      if (d / "pack.yaml").is_file() and (d / "lexicon.yaml").is_file()}
    return sorted(found)


def _pack_dir(language: str, roots: Sequence[Path]) -> Path | None:
    for root in roots:
        candidate = root / language
        if (candidate / "pack.yaml").is_file() and (candidate / "lexicon.yaml").is_file():
            return candidate
    return None


def _read_yaml(path: Path) -> tuple[dict, str]:
    try:
        raw = path.read_text(encoding="utf-8")
        data = yaml.safe_load(raw)
    except yaml.YAMLError as exc:
        raise LanguagePackError(f"is not valid YAML ({exc})", file=str(path),
                                fix="correct the YAML syntax at the position shown") from exc
    if not isinstance(data, dict):
        raise LanguagePackError("must be a YAML mapping", file=str(path), fix="see docs/language-packs.md")
    return data, raw


def validated_file(model: type[_M], data: dict, path: Path,
                   fix: str = "compare with simulation/languages/en and docs/language-packs.md") -> _M:
    """``data`` read from ``path`` as ``model``; a schema error names the file, the field and ``fix``."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "(top level)"
        raise LanguagePackError(first["msg"], file=str(path), field=field, fix=fix) from exc


@functools.cache
def _load_cached(language: str, roots: tuple[Path, ...]) -> LanguageContent:
    folder = _pack_dir(language, roots)
    if folder is None:
        raise LanguagePackError(
            f"no language pack for '{language}'", field="language",
            fix=f"use one of {', '.join(available_languages(roots))}, or add "
                f"simulation/languages/{language}/ with pack.yaml, lexicon.yaml, lexicon_tests.yaml and "
                f"(every language but en) equivalence.yaml (docs/add-a-language.md)")
    pack_data, pack_raw = _read_yaml(folder / "pack.yaml")
    lex_data, lex_raw = _read_yaml(folder / "lexicon.yaml")
    pack = validated_file(LanguagePack, pack_data, folder / "pack.yaml")
    lexicon = validated_file(Lexicon, lex_data, folder / "lexicon.yaml")
    for path, declared in ((folder / "pack.yaml", pack.language), (folder / "lexicon.yaml", lexicon.language)):
        if declared != language:
            raise LanguagePackError(f"declares language '{declared}' but lives in folder '{language}'",
                                    file=str(path), field="language", fix=f"set language: {language}")
    return LanguageContent(pack=pack, lexicon=lexicon, content_hash=stable_hash(pack_raw, lex_raw),
                           path=str(folder))


def load_language(language: str) -> LanguageContent:
    """Load and validate one language's pack and lexicon; raises ``LanguagePackError`` naming file and field."""
    return _load_cached(language, tuple(pack_roots()))


def load_builtin_language(language: str) -> LanguageContent:
    """The shipped pack of ``language``, ignoring ``BACKFIRE_PACK_PATH`` (the reference for other packs)."""
    return _load_cached(language, (BUILTIN_PACK_ROOT,))


def missing_languages(languages: Iterable[str]) -> list[str]:
    """The languages in ``languages`` that have no pack folder."""
    have = set(available_languages())
    return [lang for lang in languages if lang not in have]

