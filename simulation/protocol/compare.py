"""Two packs side by side against the master, item by item: what a bilingual reviewer reads (``backfire packs
compare``). Shows the master's required elements, both texts, their length ratio and scripts, and each pack's
back-translation and element coverage from its ``equivalence.yaml`` ("not yet reviewed" where there is none).
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from pathlib import Path

from simulation.content import LanguageContent, Persona, load_language
from simulation.protocol import (
    EQUIVALENCE_FILE,
    EquivalenceReview,
    ItemReview,
    MasterItem,
    MasterPersona,
    MasterProtocol,
    length_ratio,
    load_equivalence,
    load_master,
    pack_text,
)

NOT_REVIEWED = "not yet reviewed"
MASTER_SOURCE = "source of the master"


@dataclass(frozen=True)
class Side:
    """One pack of the pair, with its review file (``None`` when it has none)."""

    language: str
    name: str
    script: str
    version: str
    review_path: Path
    review: EquivalenceReview | None

    @property
    def is_master_source(self) -> bool:
        return self.language == "en"

    def item_review(self, item_id: str) -> ItemReview | None:
        return self.review.items.get(item_id) if self.review else None

    def back_translation(self, item_id: str) -> str:
        if self.is_master_source:
            return MASTER_SOURCE
        review = self.item_review(item_id)
        if review is None or not review.back_translation:
            return NOT_REVIEWED
        return f"{review.back_translation.strip()} ({review.back_translator or 'translator not named'})"

    def coverage(self, item_id: str, element_id: str) -> str:
        """``present``/``weakened``/``strengthened``/``absent`` with its note, or why there is no mark."""
        if self.is_master_source:
            return MASTER_SOURCE
        review = self.item_review(item_id)
        mark = review.elements.get(element_id) if review else None
        if mark is None:
            return NOT_REVIEWED
        return f"{mark.mark} ({mark.note})" if mark.note else mark.mark


@dataclass(frozen=True)
class ItemComparison:
    item: MasterItem
    text_a: str | None
    text_b: str | None

    @property
    def ratio(self) -> float | None:
        """Characters of B over characters of A, whitespace excluded (as the equivalence contract measures it):
        a first screen for dropped or added content."""
        if not self.text_a or self.text_b is None:
            return None
        return length_ratio(self.text_b, self.text_a)


@dataclass(frozen=True)
class PersonaComparison:
    master: MasterPersona
    a: Persona | None
    b: Persona | None


@dataclass(frozen=True)
class PackComparison:
    master: MasterProtocol
    a: Side
    b: Side
    items: list[ItemComparison]
    personas: list[PersonaComparison]


def _side(content: LanguageContent, master: MasterProtocol) -> Side:
    pack = content.pack
    path = Path(content.path) / EQUIVALENCE_FILE
    return Side(language=pack.language, name=pack.name, script=pack.script, version=pack.version,
                review_path=path, review=load_equivalence(path, master))


def export_items(language: str) -> str:
    """The pack's text of every master item, and its personas, as YAML, with nothing from the master or any other
    pack: what an independent back-translator sees (VALIDITY.md: the back-translator never sees the source)."""
    import yaml

    content = load_language(language)
    master = load_master()
    items = {item.id: pack_text(content.pack, item.id) for item in master.items}
    personas = {p.id: f"{p.name}, {p.age}, {p.role}. {p.description}" for p in content.pack.personas}
    document = {"language": language, "target_name": content.pack.scenario.target_name, "items": items,
                "personas": personas}
    return yaml.safe_dump(document, allow_unicode=True, sort_keys=False, width=100)


def compare_packs(language_a: str, language_b: str) -> PackComparison:
    """Load both packs (``LanguagePackError`` naming the available languages if one is missing) and pair them."""
    master = load_master()
    content_a, content_b = load_language(language_a), load_language(language_b)
    items = [ItemComparison(item, pack_text(content_a.pack, item.id), pack_text(content_b.pack, item.id))
             for item in master.items]
    by_id_a = {p.id: p for p in content_a.pack.personas}
    by_id_b = {p.id: p for p in content_b.pack.personas}
    personas = [PersonaComparison(p, by_id_a.get(p.id), by_id_b.get(p.id)) for p in master.personas]
    return PackComparison(master, _side(content_a, master), _side(content_b, master), items, personas)


def _persona_line(persona: Persona | None) -> str:
    if persona is None:
        return "(missing)"
    return f"{persona.name}, {persona.age}, {persona.role}. {persona.description}"


def _ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _review_state(side: Side) -> str:
    if side.is_master_source:
        return "master source (no review needed)"
    return str(side.review_path) if side.review else f"{NOT_REVIEWED} (no {side.review_path})"


def render_text(comparison: PackComparison) -> str:
    """The comparison as plain text, item by item."""
    a, b = comparison.a, comparison.b
    reviewed = [s for s in (a, b) if not s.is_master_source]
    lines = [f"master protocol {comparison.master.version} (English, from {comparison.master.source})",
             f"A = {a.language} ({a.name}, {a.script}, pack {a.version}); review: {_review_state(a)}",
             f"B = {b.language} ({b.name}, {b.script}, pack {b.version}); review: {_review_state(b)}",
             "length ratio = characters of B / characters of A, whitespace excluded", ""]
    n = len(comparison.items)
    for number, row in enumerate(comparison.items, 1):
        item = row.item
        lines.append(f"== [{number}/{n}] {item.id} ==")
        lines.append(f"placeholders: {', '.join('{' + p + '}' for p in item.placeholders) or 'none'}")
        marked = [s for s in reviewed if s.item_review(item.id) is not None]
        lines.append("required elements:")
        for element in item.elements:
            lines.append(f"  - {element.id} [{element.modality}; {element.intensity}]: {element.content}")
            lines += [f"      {side.language}: {side.coverage(item.id, element.id)}" for side in marked]
        lines += [f"element coverage ({s.language}): {NOT_REVIEWED}" for s in reviewed if s not in marked]
        for side, text in ((a, row.text_a), (b, row.text_b)):
            size = "missing" if text is None else f"{len(text)} chars"
            lines.append(f"{side.language} ({side.script}, {size}):")
            lines += [f"  {line}" for line in (text or "(missing)").splitlines()]
        lines.append(f"length ratio {b.language}/{a.language}: {_ratio(row.ratio)} ({a.script} -> {b.script})")
        for side in reviewed:
            lines.append(f"back-translation ({side.language}): {side.back_translation(item.id)}")
        lines.append("")
    lines.append("== personas (master: role, gender, age band, temperament) ==")
    for row in comparison.personas:
        p = row.master
        lines.append(f"  {p.id}: {p.role}; {p.gender}; {p.age_band}; {', '.join(p.temperament)}")
        lines.append(f"      {a.language}: {_persona_line(row.a)}")
        lines.append(f"      {b.language}: {_persona_line(row.b)}")
    return "\n".join(lines) + "\n"


STYLE = """
body { font-family: sans-serif; max-width: 1200px; margin: 2em auto; color: #222; }
h1 { margin-bottom: 0.2em; } h2 { border-bottom: 1px solid #ddd; padding-bottom: 0.2em; margin-top: 2em; }
table { border-collapse: collapse; font-size: 13px; margin: 0.5em 0 1em; width: 100%; }
th, td { border: 1px solid #ddd; padding: 4px 6px; text-align: left; vertical-align: top; }
th { background: #f4f4f4; } td.text { white-space: pre-wrap; width: 50%; }
.meta { color: #666; font-size: 13px; } .pending { color: #8a6d00; }
.present { color: #1a7f37; } .absent, .weakened, .strengthened { color: #b42318; font-weight: bold; }
"""


def _mark_cell(value: str) -> str:
    css = value.split(" ", 1)[0] if not value.startswith((NOT_REVIEWED, MASTER_SOURCE)) else "pending"
    return f"<td class='{escape(css)}'>{escape(value)}</td>"


def render_html(comparison: PackComparison) -> str:
    """The same comparison as one self-contained HTML page (every text escaped) for a bilingual reviewer."""
    a, b = comparison.a, comparison.b
    reviewed = [s for s in (a, b) if not s.is_master_source]
    title = f"Pack comparison: {a.language} vs {b.language}"
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>{escape(title)}</title>",
             f"<style>{STYLE}</style></head><body><h1>{escape(title)}</h1>",
             f"<p class='meta'>master protocol {escape(comparison.master.version)} (from "
             f"{escape(comparison.master.source)}). A = {escape(a.language)} ({escape(a.name)}, {escape(a.script)}, "
             f"pack {escape(a.version)}), review: {escape(_review_state(a))}. B = {escape(b.language)} "
             f"({escape(b.name)}, {escape(b.script)}, pack {escape(b.version)}), review: "
             f"{escape(_review_state(b))}. Length ratio = characters of B / characters of A, whitespace excluded.</p>"]
    for row in comparison.items:
        item = row.item
        parts.append(f"<h2 id='{escape(item.id)}'>{escape(item.id)}</h2>")
        head = "".join(f"<th>coverage {escape(s.language)}</th>" for s in reviewed)
        parts.append(f"<table><tr><th>element</th><th>modality</th><th>intensity</th><th>content</th>{head}</tr>")
        for element in item.elements:
            marks = "".join(_mark_cell(s.coverage(item.id, element.id)) for s in reviewed)
            parts.append(f"<tr><td>{escape(element.id)}</td><td>{escape(element.modality)}</td>"
                         f"<td>{escape(element.intensity)}</td><td>{escape(element.content)}</td>{marks}</tr>")
        parts.append("</table>")
        parts.append(f"<table><tr><th>{escape(a.language)} ({escape(a.script)}, "
                     f"{len(row.text_a or '')} chars)</th><th>{escape(b.language)} ({escape(b.script)}, "
                     f"{len(row.text_b or '')} chars)</th></tr>")
        parts.append(f"<tr><td class='text'>{escape(row.text_a or '(missing)')}</td>"
                     f"<td class='text'>{escape(row.text_b or '(missing)')}</td></tr>")
        back = {s.language: s.back_translation(item.id) for s in (a, b)}
        parts.append(f"<tr><td class='text'>back-translation: {escape(back[a.language])}</td>"
                     f"<td class='text'>back-translation: {escape(back[b.language])}</td></tr></table>")
        parts.append(f"<p class='meta'>length ratio {escape(b.language)}/{escape(a.language)}: "
                     f"{_ratio(row.ratio)}</p>")
    parts.append("<h2>personas</h2><table><tr><th>id</th><th>master</th>"
                 f"<th>{escape(a.language)}</th><th>{escape(b.language)}</th></tr>")
    for row in comparison.personas:
        p = row.master
        master = f"{p.role}; {p.gender}; {p.age_band}; {', '.join(p.temperament)}"
        parts.append(f"<tr><td>{escape(p.id)}</td><td>{escape(master)}</td>"
                     f"<td>{escape(_persona_line(row.a))}</td><td>{escape(_persona_line(row.b))}</td></tr>")
    parts.append("</table></body></html>")
    return "\n".join(parts) + "\n"
