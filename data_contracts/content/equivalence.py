"""The equivalence contract: every pack is a faithful translation of the master protocol (docs/language-packs.md,
Master protocol and equivalence).

A language comparison means something only when every language gets the same stimulus, so a pack must have the
master's items and placeholders, an independent back-translation of every item whose element coverage a reviewer
marked, every ``must`` element present, every ``must_not`` element absent, no addition that is not a recorded
localization, the same personas (id, age), and item lengths inside the band of its script (a translation far
shorter or longer than its source has usually dropped or added something).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from simulation.content import LanguageContent
    from simulation.protocol import MasterProtocol

REVIEW_FILE = "equivalence.yaml"
_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")

LENGTH_BANDS: dict[str, tuple[float, float]] = {
    # script: (low, high)      observed on the reviewed packs (2026-12), every item of every pack of the script
    "Latn": (0.75, 1.74),      # 0.86-1.54: de es fr id pt tr vi
    "Cyrl": (0.78, 1.48),      # 0.90-1.31: ru
    "Arab": (0.59, 1.10),      # 0.68-0.97: ar
    "Deva": (0.78, 1.41),      # 0.90-1.25: hi
    "Beng": (0.77, 1.38),      # 0.89-1.22: bn
    "Thai": (0.81, 1.60),      # 0.93-1.42: th
    "Jpan": (0.46, 0.94),      # 0.53-0.83: ja
    "Hans": (0.31, 0.77),      # 0.36-0.68: zh
    "Hang": (0.39, 0.81),      # 0.45-0.72: ko
}
"""Per script, the band of (item characters / master item characters, whitespace excluded) a faithful translation
falls in: the range observed on the reviewed packs widened by 13% on each side (low x 0.87, high x 1.13). A
translation that drops or adds a clause of a short item usually leaves it; the element review is the main guard,
the band a second one that needs no reader. A script without a band is not length-checked."""

EXPECTED_MARK = {"must": {"present"}, "must_not": {"absent"}, "may": {"present", "absent"}}


def _in_band(age: int, band: str) -> bool:
    """``"25-34"`` or ``"75+"``: a pack may localize the exact age inside the master's band, never leave it."""
    low, _, high = band.rstrip("+").partition("-")
    return int(low) <= age and (band.endswith("+") or age <= int(high))


def check_equivalence(content: LanguageContent, master: MasterProtocol | None = None) -> list[str]:
    """Problems of one pack against the master, each naming the pack, the item and the element."""
    from simulation.protocol import length_ratio, load_master, pack_text

    master = master or load_master()
    pack, lang = content.pack, content.pack.language
    if lang == master.source.split("@")[0]:
        # the master's own source pack (its texts equal the master's: tests/simulation/test_master_protocol);
        # only its wording variants are paraphrases to review
        return _variant_problems(content, master)
    problems: list[str] = []
    master_events = {item.id for item in master.items if item.id.startswith("scenario.events.")}
    for event in pack.scenario.events:
        if f"scenario.events.{event.id}" not in master_events:
            problems.append(f"{lang}: scenario.events.{event.id}: an item the master does not have")
    band = LENGTH_BANDS.get(pack.script)
    for item in master.items:
        text = pack_text(pack, item.id)
        if text is None:
            problems.append(f"{lang}: {item.id}: missing; translate the master's item")
            continue
        if sorted(set(_PLACEHOLDER.findall(text))) != item.placeholders:
            problems.append(f"{lang}: {item.id}: placeholders {sorted(set(_PLACEHOLDER.findall(text)))}, the "
                            f"master has {item.placeholders}")
        ratio = length_ratio(text, item.text)
        if band and not band[0] <= ratio <= band[1]:
            problems.append(f"{lang}: {item.id}: length ratio {ratio:.2f} outside the {pack.script} band "
                            f"{band[0]}-{band[1]}: check for dropped or added content")
    by_id = {p.id: p for p in pack.personas}
    for persona in master.personas:
        mine = by_id.get(persona.id)
        if mine is None or not _in_band(mine.age, persona.age_band):
            problems.append(f"{lang}: personas.{persona.id}: must keep the master's persona (role "
                            f"{persona.role!r}, age band {persona.age_band}); found age "
                            f"{mine.age if mine else 'none'}")
    problems += _review_problems(content, master)
    problems += _variant_problems(content, master)
    return problems


def _variant_problems(content: LanguageContent, master: MasterProtocol) -> list[str]:
    """Wording variants (``alignment_prefix_variants``) keep every element of the master's alignment prefix:
    each has a review ``alignment_prefix@<id>`` with the expected marks, and a length inside the script's band."""
    from simulation.protocol import VARIANT_SEPARATOR, length_ratio, load_equivalence

    pack, lang = content.pack, content.pack.language
    if not pack.alignment_prefix_variants:
        return []
    path = Path(content.path) / REVIEW_FILE
    review = load_equivalence(path, master)
    item = master.item("alignment_prefix")
    band = LENGTH_BANDS.get(pack.script) if lang != master.source.split("@")[0] else (0.8, 1.25)
    problems = []
    for variant, text in sorted(pack.alignment_prefix_variants.items()):
        review_id = f"alignment_prefix{VARIANT_SEPARATOR}{variant}"
        ratio = length_ratio(text, item.text)
        if band and not band[0] <= ratio <= band[1]:
            problems.append(f"{lang}: {review_id}: length ratio {ratio:.2f} outside {band[0]}-{band[1]}")
        reviewed = review.items.get(review_id) if review else None
        if reviewed is None:
            problems.append(f"{lang}: {review_id}: a wording variant without a review in {path}; mark each "
                            "element of the master's alignment_prefix (docs/language-packs.md)")
            continue
        for element in item.elements:
            mark = reviewed.elements.get(element.id)
            if mark is None or mark.mark not in EXPECTED_MARK[element.modality]:
                problems.append(f"{lang}: {review_id}: element {element.id} ({element.modality}) is "
                                f"{mark.mark if mark else 'not reviewed'}" + (f": {mark.note}" if mark and mark.note
                                                                               else ""))
        problems += [f"{lang}: {review_id}: added content not in the master: {a.content!r}"
                     for a in reviewed.additions]
    return problems


def _review_problems(content: LanguageContent, master: MasterProtocol) -> list[str]:
    from simulation.protocol import load_equivalence

    pack, lang = content.pack, content.pack.language
    path = Path(content.path) / REVIEW_FILE
    review = load_equivalence(path, master)
    if review is None:
        return [f"{lang}: no equivalence review ({path}); fix: have `backfire packs export {lang}` back-translated "
                "by someone who has not seen the master, then mark each element's coverage "
                "(docs/language-packs.md, Master protocol and equivalence)"]
    problems = []
    if review.pack_version not in (None, pack.version):
        problems.append(f"{lang}: {REVIEW_FILE}: reviews pack {review.pack_version}, the pack is {pack.version}; "
                        "review the changed items again")
    localized = {entry.item for entry in pack.provenance.localizations}
    for item in master.items:
        reviewed = review.items.get(item.id)
        if reviewed is None or not reviewed.back_translation:
            problems.append(f"{lang}: {item.id}: no back-translation in {REVIEW_FILE}")
            continue
        for element in item.elements:
            mark = reviewed.elements.get(element.id)
            if mark is None:
                problems.append(f"{lang}: {item.id}: element {element.id} not reviewed")
            elif mark.mark not in EXPECTED_MARK[element.modality]:
                problems.append(f"{lang}: {item.id}: element {element.id} ({element.modality}, "
                                f"{element.intensity}) is {mark.mark}" + (f": {mark.note}" if mark.note else ""))
        for addition in reviewed.additions:
            if not (addition.localization and item.id in localized):
                problems.append(f"{lang}: {item.id}: added content not in the master: {addition.content!r}"
                                + ("" if not addition.localization else
                                   " (marked a localization, but provenance.localizations has no entry for it)"))
    return problems
