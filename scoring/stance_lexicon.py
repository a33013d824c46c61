"""Metric v1.1 lexicon matching: the v1 lexicon, matched on lemmas and stems, counting only the speaker's stance.

Per category a hit is a v1 surface match (``scoring/lexicon.py``) or a match of the entry's analyzed key
sequence (lemmas or stems, ``scoring/morphology.py``) on the text's; overlapping hits of one category count once
(leftmost, then longest). Each hit is then, in this order of precedence:

- ``<dim>.quoted``: inside quotation marks (``scoring/quotation.py``);
- ``<dim>.echoed``: a verbatim echo of what the agent was shown (same module);
- ``<dim>.negated``: in the scope of a negation outside the entry (``scoring/negation.py``);
- ``<dim>``: the speaker's own stance, the only count the v1.1 marts read.

A hit inside one of the pack's exclusion idioms (``lexicon_lemmas.yaml``, ``analysis.exclude``) is no hit.
"""

from __future__ import annotations

import bisect
import functools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scoring.lexicon import CompiledLexicon, collapse_spaces, compile_lexicon, lexicon_for
from scoring.morphology import Analyzer, Token, analyzer_for
from scoring.negation import Cues, find_cues, is_negated, turkish_negative
from scoring.quotation import echoed_mask, is_echoed, is_inside, quoted_regions
from scoring.text_units import combining_marks
from simulation.content import PATHOLOGY_KINDS

QUALIFIERS = ("quoted", "echoed", "negated")
COUNTED = ("pathology", *(f"pathology.{k}" for k in PATHOLOGY_KINDS), "protective", "protective.general",
           "conformity", "individuation")
"""The count dimensions of v1, each of which v1.1 splits into stance, quoted, echoed and negated."""
_LEAVES = (*(f"pathology.{k}" for k in PATHOLOGY_KINDS), "protective.general", "conformity", "individuation")

_WORD_CHAR = re.compile(rf"[\w{combining_marks()}]")
WORD_INITIAL = frozenset({"en", "de", "fr", "es", "pt", "ru", "tr", "hi"})
"""Languages whose inflection leaves a word's start alone, so a trigger must start a word (ar and id prefix
their verbs: سنطرده, mengusir)."""
LEMMA_MATCHED = frozenset({"en", "de", "fr", "es", "pt", "ru", "tr", "id", "ar", "hi", "ja", "ko"})
"""Languages whose analyzer gives keys other than the surface (the others match on surface only, their
``lexicon_lemmas.yaml`` entries added to the surface lexicon: ``_surface_lexicon``)."""


@dataclass(frozen=True, slots=True)
class _Entry:
    keys: tuple[str, ...]
    dim: str
    negative: bool
    """tr: the entry's own last word is negative (``itiraz etmem``): it matches only negative words, whose
    negation is then the entry's own."""
    form: str = ""
    """ja: the conjugation form the text's last word must have (``意志推量形``: an entry written as a proposal,
    追放しよう, matches 追放しましょう but not 追放した); empty: any form of the lemma."""


def _content(tokens: Sequence[Token]) -> list[Token]:
    return [t for t in tokens if not t.is_function]


def _resolve(candidates: list[tuple[int, int, int]]) -> list[tuple[int, int, int]]:
    """Leftmost first, then longest, non-overlapping."""
    candidates.sort(key=lambda c: (c[0], -c[1]))
    kept, position = [], 0
    for start, end, entry_end in candidates:
        if start >= position:
            kept.append((start, end, entry_end))
            position = end
    return kept


@dataclass
class StanceLexicon:
    """One language's v1 lexicon with its analyzer, entry key index and negation rules."""

    language: str
    surface: CompiledLexicon
    analyzer: Analyzer
    index: dict[str | tuple[str, str], list[_Entry]]
    """Entries by their first key (one-key entries) or first two keys (longer ones)."""
    fragments: frozenset[str] = frozenset()
    """ja entries written as an inflected stem that the text must continue (賛成票は入れ, 言いなりにはな):
    their authors count the negation that follows as part of the entry (``_fragment_entries``)."""
    triggers: Any = None
    """An Aho-Corasick automaton over the entries' triggers (``_may_match_lemmas``); None: no lemma entries, so
    the analyzer runs only on texts with a surface hit (for negation scope)."""
    exclusions: tuple[tuple[str, tuple[str, ...]], ...] = ()
    """The pack's idioms in which no entry counts (es echar de menos "to miss someone" against echar
    "to throw out"): each as normalized surface and, where matching is on lemmas, as its key sequence."""

    @property
    def spaced(self) -> bool:
        return self.surface.spaced

    def _lemma_spans(self, tokens: Sequence[Token]) -> dict[str, list[tuple[int, int, int]]]:
        content = _content(tokens)
        keys = [t.key for t in content]
        index, size = self.index, len(keys)
        found: dict[str, list[tuple[int, int, int]]] = {}
        for i, key in enumerate(keys):
            candidates = index.get(key, ())
            if i + 1 < size:
                candidates = (*index.get((key, keys[i + 1]), ()), *candidates)
            for entry in candidates:
                n = len(entry.keys)
                if n > 2 and tuple(keys[i:i + n]) != entry.keys:
                    continue
                last = content[i + n - 1]
                if entry.form and not last.tag.rsplit(".", 1)[-1].startswith(entry.form):
                    continue
                entry_end = last.end
                if self.language == "tr" and turkish_negative(last.surface, last.key):
                    if not entry.negative:
                        entry_end = last.start  # the negation is outside the entry
                elif self.language == "tr" and entry.negative:
                    continue  # a negative entry never matches the affirmative word
                found.setdefault(entry.dim, []).append((content[i].start, last.end, entry_end))
        return found

    def _may_match_lemmas(self, collapsed: str) -> bool:
        """Whether the text holds a trigger of an entry (the first characters of its longest key), so the
        analyzer, the slow part, runs only where a lemma hit is possible."""
        if self.triggers is None:
            return False
        if self.language not in WORD_INITIAL:
            return next(self.triggers.iter(collapsed), None) is not None
        word = _WORD_CHAR.match
        return any(end + 1 - len(trigger) == 0 or not word(collapsed, end - len(trigger))
                   for end, trigger in self.triggers.iter(collapsed))

    def classify(self, text: str, contexts: Sequence[frozenset[str]] | Callable[[], Sequence[frozenset[str]]] = ()
                 ) -> dict[str, int]:
        """Counts per dimension (stance and qualified) of a normalized text.

        Args:
            text: NFKC-casefolded text (``scoring.text_units.normalize``).
            contexts: n-gram sets (``scoring.quotation.ngrams``) of what the speaker was shown, or a function
                returning them (called only when the text has a hit).
        """
        collapsed = collapse_spaces(text)
        spans = self.surface.spans(collapsed)
        tokens: list[Token] | None = None
        if self.language in LEMMA_MATCHED and (any(spans.values()) or self._may_match_lemmas(collapsed)):
            tokens = self.analyzer.analyze(collapsed)
            for dim, extra in self._lemma_spans(tokens).items():
                spans[dim] = [*spans.get(dim, ()), *extra]
        if not any(spans.values()):
            return dict(_ZERO)
        counts = dict.fromkeys(_ALL_LEAVES, 0)
        if tokens is None:
            tokens = self.analyzer.analyze(collapsed)
        cues = find_cues(tokens, collapsed, self.language)
        starts, ends = [t.start for t in tokens], [t.end for t in tokens]
        excluded = self._excluded(collapsed, tokens) if self.exclusions else ()
        regions = quoted_regions(collapsed)
        if callable(contexts):
            contexts = contexts()
        echo = echoed_mask(collapsed, self.spaced, contexts) if contexts else None
        for dim, found in spans.items():
            for start, end, entry_end in _resolve(list(found)):
                if any(start < b and a < end for a, b in excluded):
                    continue
                counts[self._qualified(dim, collapsed, start, end, entry_end, tokens, starts, ends, cues, regions,
                                       echo)] += 1
        return _totals(counts)

    def _excluded(self, text: str, tokens: Sequence[Token]) -> list[tuple[int, int]]:
        """Character spans of the pack's exclusion idioms in the text, by surface and by key sequence."""
        spans = []
        content = _content(tokens) if self.language in LEMMA_MATCHED else []
        keys = [t.key for t in content]
        for surface, sequence in self.exclusions:
            position = text.find(surface)
            while position >= 0:
                spans.append((position, position + len(surface)))
                position = text.find(surface, position + 1)
            n = len(sequence)
            for i in range(len(keys) - n + 1) if n else ():
                if tuple(keys[i:i + n]) == sequence:
                    spans.append((content[i].start, content[i + n - 1].end))
        return spans

    def _qualified(self, dim: str, text: str, start: int, end: int, entry_end: int, tokens: Sequence[Token],
                   starts: list[int], ends: list[int], cues: Cues, regions: list[tuple[int, int]],
                   echo: tuple | None) -> str:
        if is_inside(regions, start, end):
            return f"{dim}.quoted"
        if echo is not None and is_echoed(echo[0], echo[1], start, end):
            return f"{dim}.echoed"
        if tokens:
            first = min(bisect.bisect_right(ends, start), len(tokens) - 1)
            last = max(bisect.bisect_left(starts, end) - 1, first)
            outside = [i for i in range(len(tokens)) if tokens[i].end <= start or tokens[i].start >= end]
            if self.fragments and text[start:end] in self.fragments:
                outside = [i for i in outside if not last < i <= last + FRAGMENT_CONTINUATION]
            own = any(start <= tokens[c].start and tokens[c].end <= end for c in (*cues.pre, *cues.post))
            # an entry that holds its own negation (pt machucar ninguém, id menyakiti siapa pun) is a stance of
            # its own, and the negation before it is concord (Não vou machucar ninguém), not a second negation
            if not own and (is_negated(_outside(cues, outside), first, last, self.language) or
                            any(tokens[c].start < start < tokens[c].end for c in cues.pre)):
                return f"{dim}.negated"  # or a cue word the hit begins inside (zh 不会 of 不会举报 for 会举报)
            word = tokens[last]
            if self.language == "tr" and entry_end < word.end and turkish_negative(word.surface, word.key) and \
                    (entry_end <= word.start or not turkish_negative(text[word.start:entry_end], word.key)):
                return f"{dim}.negated"
        return dim


def _outside(cues: Cues, outside: list[int]) -> Cues:
    """The cues that are not part of the hit itself."""
    keep = set(outside)
    return Cues(tuple(c for c in cues.pre if c in keep), tuple(c for c in cues.post if c in keep), cues.clause)


_SUFFIXES = ("", *(f".{q}" for q in QUALIFIERS))
_ALL_LEAVES = tuple(f"{d}{suffix}" for suffix in _SUFFIXES for d in _LEAVES)
_SUMS = tuple((f"pathology{x}", tuple(f"pathology.{k}{x}" for k in PATHOLOGY_KINDS),
               f"protective{x}", (f"conformity{x}", f"individuation{x}", f"protective.general{x}"))
              for x in _SUFFIXES)


def _totals(counts: dict[str, int]) -> dict[str, int]:
    for pathology, kinds, protective, registers in _SUMS:
        counts[pathology] = sum([counts[k] for k in kinds])
        counts[protective] = sum([counts[r] for r in registers])
    return counts


_ZERO = _totals(dict.fromkeys(_ALL_LEAVES, 0))


LEMMA_FILE = "lexicon_lemmas.yaml"
"""Optional per pack: v1.1-only entries (citation forms), read by nothing else and outside the content hash."""


def _lemma_file(language: str) -> tuple[Path, dict[str, Any] | None]:
    """The path of a pack's ``lexicon_lemmas.yaml`` and its parsed content (``None`` where the pack has none)."""
    import yaml

    from simulation.content import load_language

    path = Path(load_language(language).path) / LEMMA_FILE
    if not path.is_file():
        return path, None
    return path, yaml.safe_load(path.read_text(encoding="utf-8")) or {}


def lemma_additions(language: str) -> tuple[str | None, dict[str, list[str]]]:
    """The version and entries per dimension of a pack's ``lexicon_lemmas.yaml`` (``(None, {})`` if absent).

    Raises:
        LanguagePackError: the file is not a mapping of known categories to lists of strings.
    """
    from core.errors import LanguagePackError

    path, data = _lemma_file(language)
    if data is None:
        return None, {}
    known = {"pathology": set(PATHOLOGY_KINDS), "protective": {"conformity", "individuation", "general"}}
    entries: dict[str, list[str]] = {}
    for group, kinds in known.items():
        for kind, words in (data.get(group) or {}).items():
            if kind not in kinds or not isinstance(words, list) or not all(isinstance(w, str) for w in words):
                raise LanguagePackError(f"'{kind}' must be one of {', '.join(sorted(kinds))} with a list of strings",
                                        file=str(path), field=f"{group}.{kind}",
                                        fix="compare with simulation/languages/de/lexicon_lemmas.yaml")
            dim = kind if group == "protective" and kind != "general" else f"{group}.{kind}"
            entries[dim] = list(words)
    if data.get("language") != language or not data.get("version"):
        raise LanguagePackError("needs 'language' (the folder's code) and 'version'", file=str(path),
                                field="language", fix=f"set language: {language} and a version")
    return str(data["version"]), entries


@dataclass(frozen=True)
class AnalysisOptions:
    """A pack's corrections to its analyzer (``lexicon_lemmas.yaml``, ``analysis``)."""

    keep_surface: frozenset[str] = frozenset()
    """Word forms keyed as written: the lemmatizer sends them to another word (es fuera -> ser)."""
    keep_lemma: frozenset[str] = frozenset()
    """Lemmas left unstemmed: their stem is another word's (de gewissen -> gewiss, "certain")."""
    exclude: tuple[str, ...] = ()
    """Idioms in which no entry counts (es echar de menos, "to miss someone")."""


@functools.cache
def analysis_options(language: str) -> AnalysisOptions:
    """The ``analysis`` section of a pack's ``lexicon_lemmas.yaml`` (normalized; empty where absent).

    Raises:
        LanguagePackError: a key other than keep_surface, keep_lemma, exclude, or a value that is not a list
            of strings.
    """
    from core.errors import LanguagePackError
    from scoring.text_units import normalize

    path, data = _lemma_file(language)
    section = (data or {}).get("analysis") or {}
    fields = ("keep_surface", "keep_lemma", "exclude")
    if not isinstance(section, dict) or set(section) - set(fields):
        raise LanguagePackError(f"'analysis' takes only {', '.join(fields)}", file=str(path), field="analysis",
                                fix="write analysis: {keep_surface: [...], keep_lemma: [...], exclude: [...]}")
    values: dict[str, tuple[str, ...]] = {}
    for name in fields:
        words = section.get(name) or []
        if not isinstance(words, list) or not all(isinstance(w, str) and w.strip() for w in words):
            raise LanguagePackError(f"'{name}' must be a list of non-empty strings", file=str(path),
                                    field=f"analysis.{name}", fix=f"write {name}: [word, ...]")
        values[name] = tuple(collapse_spaces(normalize(w.strip())) for w in words)
    return AnalysisOptions(frozenset(values["keep_surface"]), frozenset(values["keep_lemma"]), values["exclude"])


def _entry_index(language: str, analyzer: Analyzer) -> dict[str | tuple[str, str], list[_Entry]]:
    from scoring.text_units import normalize
    from simulation.content import load_language

    lexicon = load_language(language).lexicon
    groups: dict[str, list[str]] = {f"pathology.{k}": list(v) for k, v in lexicon.pathology.items()}
    groups["conformity"] = list(lexicon.protective["conformity"])
    groups["individuation"] = list(lexicon.protective["individuation"])
    groups["protective.general"] = list(lexicon.protective.get("general") or [])
    for dim, extra in lemma_additions(language)[1].items():
        groups[dim] = [*groups[dim], *extra]
    index: dict[str | tuple[str, str], list[_Entry]] = {}
    for dim, entries in groups.items():
        for entry in entries:
            text = collapse_spaces(normalize(entry.strip()).rstrip("*").strip())
            tokens = _content(analyzer.analyze(text))
            if language == "ko":  # only a dictionary form (~다) stands for every ending of its stem; other
                # entries are written as said and match by surface (v1), which keeps kiwipiepy, the slowest
                # analyzer, off texts without a hit
                if len(tokens) < 2 or tokens[-1].key != "다" or not tokens[-1].tag.startswith("E"):
                    continue
                tokens = tokens[:-1]
            if not tokens:
                continue
            last = tokens[-1]
            negative = language == "tr" and turkish_negative(last.surface, last.key)
            form = _VOLITIONAL if language == "ja" and last.tag.rsplit(".", 1)[-1].startswith(_VOLITIONAL) else ""
            item = _Entry(tuple(t.key for t in tokens), dim, negative, form)
            slot = item.keys[0] if len(item.keys) == 1 else item.keys[:2]
            if item not in index.get(slot, []):
                index.setdefault(slot, []).append(item)
    for items in index.values():
        items.sort(key=lambda e: -len(e.keys))
    return index


_VOLITIONAL = "意志推量形"
"""UniDic's volitional form (しよう, しましょう): a proposal, which its entries mean and other forms do not."""


@functools.cache
def stance_lexicon_for(language: str) -> StanceLexicon:
    """The v1.1 lexicon of a language pack (built once per process)."""
    options = analysis_options(language)
    analyzer = analyzer_for(language, options.keep_surface, options.keep_lemma)
    index = _entry_index(language, analyzer) if language in LEMMA_MATCHED else {}
    fragments = _fragment_entries(analyzer) if language == "ja" else frozenset()
    exclusions = tuple((text, tuple(t.key for t in _content(analyzer.analyze(text)))
                        if language in LEMMA_MATCHED else ()) for text in options.exclude)
    return StanceLexicon(language, _surface_lexicon(language), analyzer, index, fragments,
                         _triggers(index, language) if index else None, exclusions)


def _surface_lexicon(language: str) -> CompiledLexicon:
    """v1's compiled lexicon; for a language matched on surface only (zh, th, vi, bn), and for ko, whose lemma
    index takes only dictionary-form entries (~다), with its ``lexicon_lemmas.yaml`` entries added as surface
    entries, so every v1.1 addition counts there too."""
    from simulation.content import load_language

    _, additions = lemma_additions(language)
    if (language in LEMMA_MATCHED and language != "ko") or not additions:
        return lexicon_for(language)
    content = load_language(language)
    lexicon = content.lexicon
    pathology = {kind: [*entries, *additions.get(f"pathology.{kind}", [])]
                 for kind, entries in lexicon.pathology.items()}
    protective = {kind: [*entries, *additions.get(kind if kind != "general" else "protective.general", [])]
                  for kind, entries in lexicon.protective.items()}
    if "general" not in protective and additions.get("protective.general"):
        protective["general"] = list(additions["protective.general"])
    extended = lexicon.model_copy(update={"pathology": pathology, "protective": protective})
    return compile_lexicon(extended, content.pack.segmentation)


FRAGMENT_CONTINUATION = 3
"""Tokens after a fragment entry whose negation belongs to the entry."""


def _fragment_entries(analyzer: Analyzer) -> frozenset[str]:
    """The ja entries that end in a verb's irrealis or continuative stem (UniDic cForm 未然形 / 連用形: 入れ, な),
    i.e. written to be continued by the text, as the authors did for refusals (賛成票は入れ[ません])."""
    from scoring.text_units import normalize
    from simulation.content import load_language

    lexicon = load_language("ja").lexicon
    entries = [e for group in (*lexicon.pathology.values(), *lexicon.protective.values()) for e in group]
    fragments = set()
    for entry in entries:
        text = collapse_spaces(normalize(entry.strip()).rstrip("*").strip())
        tokens = analyzer.analyze(text)
        tag = tokens[-1].tag if tokens else ""
        if tag.split(".")[0] in ("動詞", "助動詞") and tag.rsplit(".", 1)[-1].startswith(("未然形", "連用形")):
            fragments.add(text)
    return frozenset(fragments)


def _trigger(key: str, language: str) -> str:
    """The part of an entry's longest key that its inflected forms keep: ja the lemma without its last kana (at
    most 3 characters: 従う / 従わ, 追い出す / 追い出さ), ko the stem's first 2 syllables (내보내 / 내보냈), spaced
    scripts the first 3 letters of the stem (expuls / expulsemos, выгна / выгоним)."""
    if language == "ja":
        return key[:max(1, len(key) - 1)][:3]
    return key[:2] if language == "ko" else key[:3]


def _triggers(index: dict[str | tuple[str, str], list[_Entry]], language: str) -> Any:
    """An automaton over the entries' triggers (``_trigger``). Forms that change them (en went / go, de warf /
    werfen) are found only by v1's surface matches."""
    import ahocorasick

    automaton = ahocorasick.Automaton()
    for entries in index.values():
        for entry in entries:
            trigger = _trigger(max(entry.keys, key=len), language)
            automaton.add_word(trigger, trigger)
    automaton.make_automaton()
    return automaton
