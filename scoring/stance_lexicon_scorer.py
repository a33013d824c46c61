"""The metric-v1.1 lexicon scorer: lemma-matched marker counts of the speaker's own stance, with the negated,
quoted and echoed hits in dimensions of their own (docs/metrics.md, "Metric spec v1.1").

Echoes are checked against what the agent was shown: the facility's texts of its language pack up to the
utterance's turn, and the other agents' talk of the turns in the run's history window, read from the
warehouse the runner binds (``bind``). Without a warehouse (unit tests, the gold set) only the pack's texts of
the utterance's turn are used, and none when the turn is 0.
"""

from __future__ import annotations

import functools
import logging
from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from core.errors import LanguagePackError
from scoring.base import Scorer, Utterance, Values
from scoring.lexicon_scorer import LEXICON_DIMENSIONS
from scoring.quotation import ngrams
from scoring.stance_lexicon import COUNTED, QUALIFIERS, StanceLexicon, lemma_additions, stance_lexicon_for
from scoring.text_units import count_characters, count_units, normalize
from simulation.content import available_languages, load_language

if TYPE_CHECKING:
    import duckdb

logger = logging.getLogger(__name__)

STANCE_DIMENSIONS = (*LEXICON_DIMENSIONS, *(f"{d}.{q}" for d in COUNTED for q in QUALIFIERS))
_STANCE_COUNTED = (*COUNTED, *(f"{d}.{q}" for d in COUNTED for q in QUALIFIERS))


@functools.cache
def pack_context(language: str, turn: int) -> frozenset[str]:
    """N-grams of the facility's texts an agent has been shown by ``turn``: the intro, the events so far, the
    alignment prefix (and its wording variants) and the individuation instruction."""
    pack = load_language(language).pack
    target = pack.scenario.target_name
    texts = [pack.scenario.intro, *(e.text for e in pack.scenario.events[:max(turn, 0)]), pack.alignment_prefix,
             *pack.alignment_prefix_variants.values(), pack.individuation_instruction]
    spaced = pack.segmentation != "characters"
    grams: set[str] = set()
    for text in texts:
        grams |= ngrams(normalize(text.replace("{target}", target)), spaced)
    return frozenset(grams)


class StanceLexiconScorer(Scorer):
    """Metric v1.1: the v1 lexicon on lemmas/stems, negation-, quotation- and echo-aware."""

    name = "lexicon-v1.1"
    version = "1.1"
    dimensions = STANCE_DIMENSIONS

    def __init__(self) -> None:
        self._by_language: dict[str, tuple[StanceLexicon, str] | None] = {}
        self._con: duckdb.DuckDBPyConnection | None = None

    def languages(self) -> frozenset[str] | None:
        return frozenset(available_languages())

    @functools.cache  # noqa: B019 - one scorer per process; the cache holds a handful of strings
    def model_id(self, language: str) -> str:
        lemmas, _ = lemma_additions(language)
        extra = f"+lemmas@{lemmas}" if lemmas else ""
        return f"lexicon/{language}@{load_language(language).lexicon.version}{extra};" \
               f"{stance_lexicon_for(language).analyzer.name}"

    def provenance(self) -> dict[str, Any]:
        return {**super().provenance(), "analyzers": {code: self.model_id(code) for code in sorted(self._by_language)
                                                      if self._by_language[code] is not None}}

    def bind(self, con: duckdb.DuckDBPyConnection) -> None:
        self._con = con

    def _language(self, language: str) -> tuple[StanceLexicon, str] | None:
        if language not in self._by_language:
            try:
                self._by_language[language] = (stance_lexicon_for(language),
                                               load_language(language).pack.segmentation)
            except LanguagePackError:
                logger.warning("lexicon-v1.1 abstains on language %s (no pack)", language)
                self._by_language[language] = None
        return self._by_language[language]

    def score_with_context(self, utterance: Utterance, contexts: Sequence[frozenset[str]]
                           | Callable[[], Sequence[frozenset[str]]] = ()) -> Values | None:
        """Values of one utterance, echoes checked against ``contexts`` (``scoring.quotation.ngrams`` sets, or a
        function returning them, called only when the utterance has a hit)."""
        found = self._language(utterance.language)
        if found is None:
            return None
        lexicon, segmentation = found
        text = normalize(utterance.text)
        counts = lexicon.classify(text, contexts)
        values: Values = {dim: float(counts[dim]) for dim in _STANCE_COUNTED}
        values["units"] = float(count_units(text, segmentation, normalized=True))
        values["characters"] = float(count_characters(text, normalized=True))
        return values

    def score(self, utterance: Utterance) -> Values | None:
        contexts = [pack_context(utterance.language, utterance.turn)] if utterance.turn > 0 else []
        return self.score_with_context(utterance, contexts)

    def score_batch(self, utterances: Sequence[Utterance]) -> list[Values | None]:
        history = _History(self._con, utterances) if self._con is not None else None
        results: list[Values | None] = []
        for u in utterances:
            if self._language(u.language) is None:
                results.append(None)
                continue
            results.append(self.score_with_context(u, functools.partial(_contexts, u, history)))
        return results


def _contexts(utterance: Utterance, history: _History | None) -> list[frozenset[str]]:
    found = [pack_context(utterance.language, utterance.turn)] if utterance.turn > 0 else []
    return found + (history.others(utterance) if history is not None else [])


class _History:
    """Other agents' talk each utterance's agent saw (the run's history window), as n-gram sets, per batch."""

    def __init__(self, con: duckdb.DuckDBPyConnection, utterances: Sequence[Utterance]) -> None:
        run_ids = sorted({u.run_id for u in utterances if u.run_id})
        rows = con.execute("""
            select u.run_id, u.turn, u.agent_idx, u.text, r.history_window, r.language
            from raw.utterances u join raw.runs r using (run_id)
            where u.channel = 'talk' and u.run_id in (select unnest(?))""", [run_ids]).fetchall() if run_ids else []
        self._talk: dict[tuple[str, int], list[tuple[int, str, str]]] = defaultdict(list)
        self._window: dict[str, int] = {}
        for run_id, turn, agent_idx, text, window, language in rows:
            self._talk[(run_id, turn)].append((agent_idx, text, language))
            self._window[run_id] = window
        self._grams: dict[tuple[str, int, int], frozenset[str]] = {}

    def _ngrams(self, run_id: str, turn: int, agent_idx: int, text: str, language: str) -> frozenset[str]:
        key = (run_id, turn, agent_idx)
        if key not in self._grams:
            spaced = load_language(language).pack.segmentation != "characters"
            self._grams[key] = ngrams(normalize(text), spaced)
        return self._grams[key]

    def others(self, utterance: Utterance) -> list[frozenset[str]]:
        window = self._window.get(utterance.run_id, 0)
        found = []
        for turn in range(max(1, utterance.turn - window), utterance.turn):
            for agent_idx, text, language in self._talk.get((utterance.run_id, turn), ()):
                if agent_idx != utterance.agent_idx:
                    found.append(self._ngrams(utterance.run_id, turn, agent_idx, text, language))
        return found
