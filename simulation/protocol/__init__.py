"""The master protocol: the canonical English text of every item an agent reads, and its required elements.

Packs are compared against the master, element by element, so a difference between languages can be a
language effect rather than a difference in what each pack says (issue 12, docs/language-packs.md
"Master protocol and equivalence"). A pack's per-item review lives in its optional ``equivalence.yaml``.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from core.errors import LanguagePackError
from simulation.content import LanguagePack, validated_file

MASTER_PATH = Path(__file__).parent / "master.yaml"
EQUIVALENCE_FILE = "equivalence.yaml"
VARIANT_SEPARATOR = "@"
"""Review ids of wording variants: ``alignment_prefix@p1`` is reviewed against the master's ``alignment_prefix``."""

Modality = Literal["must", "may", "must_not"]
CoverageMark = Literal["present", "weakened", "strengthened", "absent"]
_PLACEHOLDER = re.compile(r"\{(\w+)\}")
_FIX = "see docs/language-packs.md, 'Master protocol and equivalence'"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Element(_Strict):
    """One thing an item must (or may, or must not) say; a translation keeps its modality and intensity."""

    id: str = Field(pattern=r"^[a-z0-9_]+$")
    content: str = Field(min_length=1)
    modality: Modality
    intensity: str = Field(min_length=1)
    """How strong it is (an obligation, a request, 'one meal'): what a translation must not soften or harden."""


class MasterItem(_Strict):
    id: str
    """Where the item lives in a pack: ``scenario.intro``, ``scenario.events.<event_id>``, ``alignment_prefix``,
    ``individuation_instruction``, ``output_format`` or ``probe.question``."""
    text: str
    elements: list[Element] = Field(min_length=1)

    @field_validator("elements")
    @classmethod
    def _unique_ids(cls, elements: list[Element]) -> list[Element]:
        ids = [e.id for e in elements]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"element ids repeated: {', '.join(dupes)}")
        return elements

    @property
    def placeholders(self) -> list[str]:
        """The ``{name}`` placeholders of the text, which every translation keeps."""
        return sorted(set(_PLACEHOLDER.findall(self.text)))


class MasterPersona(_Strict):
    """A persona as attributes, so a pack localizes the name but keeps the same person in every language."""

    id: str
    role: str
    gender: Literal["female", "male"]
    age: int
    age_band: str
    temperament: list[str] = Field(min_length=1)


class MasterProtocol(_Strict):
    version: str
    source: str
    """The pack version the English text was taken from (``en@1.1.0``)."""
    items: list[MasterItem]
    personas: list[MasterPersona]

    @model_validator(mode="after")
    def _unique_ids(self) -> MasterProtocol:
        for kind, ids in (("item", [i.id for i in self.items]), ("persona", [p.id for p in self.personas])):
            if len(set(ids)) != len(ids):
                raise ValueError(f"{kind} ids must be unique")
        return self

    def item(self, item_id: str) -> MasterItem:
        return next(i for i in self.items if i.id == item_id)


class ElementReview(_Strict):
    mark: CoverageMark
    note: str = ""


class Addition(_Strict):
    """Something the back-translation says that no element of the master item does."""

    content: str = Field(min_length=1)
    localization: bool = False
    """True when it is a name, idiom or register choice the pack records in ``provenance.localizations`` for
    this item (never a change of content); an addition that is not is an equivalence failure."""
    note: str = ""


class ItemReview(_Strict):
    """One item's review in a pack: a back-translation made without sight of the master, and element coverage."""

    back_translation: str | None = None
    back_translator: str | None = None
    elements: dict[str, ElementReview] = {}
    additions: list[Addition] = []


class EquivalenceReview(_Strict):
    """A pack's ``equivalence.yaml``: per master item id, its review; items not listed are not yet reviewed."""

    language: str
    reviewer: str | None = None
    """Who compared the back-translations with the master's elements (not the back-translator)."""
    pack_version: str | None = None
    """The pack version reviewed: a changed pack needs a new review."""
    items: dict[str, ItemReview] = {}


def _read(path: Path) -> dict:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise LanguagePackError(f"cannot be read ({exc})", file=str(path), fix="correct the YAML") from exc
    if not isinstance(data, dict):
        raise LanguagePackError("must be a YAML mapping", file=str(path), fix="see docs/language-packs.md")
    return data


_SPACE = re.compile(r"\s+")


def length_ratio(text: str, source: str) -> float:
    """Characters of ``text`` over characters of ``source``, whitespace excluded (scripts without spaces would
    otherwise look shorter than they are)."""
    return len(_SPACE.sub("", text)) / max(1, len(_SPACE.sub("", source)))


@functools.cache
def load_master(path: Path = MASTER_PATH) -> MasterProtocol:
    """The master protocol (``simulation/protocol/master.yaml``), validated."""
    return validated_file(MasterProtocol, _read(path), path, fix=_FIX)


def pack_text(pack: LanguagePack, item_id: str) -> str | None:
    """The text of master item ``item_id`` in ``pack``, or ``None`` when the pack has no such item."""
    if item_id == "scenario.intro":
        return pack.scenario.intro
    if item_id.startswith("scenario.events."):
        event_id = item_id.removeprefix("scenario.events.")
        return next((e.text for e in pack.scenario.events if e.id == event_id), None)
    if item_id == "probe.question":
        return pack.probe.question
    if item_id in ("alignment_prefix", "individuation_instruction", "output_format"):
        return str(getattr(pack, item_id))
    return None


def load_equivalence(path: Path, master: MasterProtocol | None = None) -> EquivalenceReview | None:
    """A pack's review file, or ``None`` when there is none; item and element ids must be the master's."""
    if not path.is_file():
        return None
    review = validated_file(EquivalenceReview, _read(path), path, fix=_FIX)
    master = master or load_master()
    known = {i.id: {e.id for e in i.elements} for i in master.items}
    for item_id, item in review.items.items():
        master_id = item_id.split(VARIANT_SEPARATOR)[0]  # a wording variant, e.g. alignment_prefix@p1
        if master_id not in known:
            raise LanguagePackError(f"unknown item '{item_id}'", file=str(path), field=f"items.{item_id}",
                                    fix=f"use a master item id: {', '.join(known)} (a wording variant: "
                                        f"alignment_prefix{VARIANT_SEPARATOR}<variant id>)")
        unknown = sorted(set(item.elements) - known[master_id])
        if unknown:
            raise LanguagePackError(f"unknown elements {', '.join(unknown)}", file=str(path),
                                    field=f"items.{item_id}.elements",
                                    fix=f"use the master's elements: {', '.join(sorted(known[master_id]))}")
    return review
