"""Per-language morphology for metric v1.1: tokens with a match key (lemma or stem) and character offsets.

Each language gets the analyzer made for it (docs/metrics.md, "Metric spec v1.1"):

- spaced scripts with a dictionary lemmatizer and a Snowball stemmer (en, de, fr, es, pt, ru, id, ar, hi):
  the key is the Snowball stem of the simplemma lemma, so inflections the dictionary knows meet at the lemma
  (es ``expulsemos`` -> ``expulsar``, ru ``выгоним`` -> ``выгнать``) and those it does not still meet at the stem;
- ja: fugashi (MeCab) with unidic-lite, key = UniDic lemma (``追い出さ`` -> ``追い出す``);
- ko: kiwipiepy, key = morpheme form; particles are function tokens (left out of matching), and an entry in
  dictionary form (~다) matches its stem with any ending;
- zh: jieba; th: pythainlp (newmm); vi and bn: word tokens, key = surface (vi is isolating; no library named
  for the job covers bn, whose lexicon keeps its v1 stems).

Everything loads from installed packages (the ``lexicon`` extra); nothing is downloaded at run time. Analyzers
are built once per process (``analyzer_for``) and cache keys per word form, which keeps the hot loop cheap.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from typing import NamedTuple

from core.errors import MissingExtraError
from scoring.text_units import combining_marks

_CACHE_LIMIT = 200_000
"""Word forms whose key an analyzer remembers; the cache is cleared when full (agent vocabularies are small)."""


class Token(NamedTuple):
    """One token of a normalized, space-collapsed text (a named tuple: built millions of times, cheaply)."""

    surface: str
    key: str
    """What entries match on: lemma, stem or surface, by language."""
    start: int
    end: int
    tag: str = ""
    """Part of speech where the analyzer gives one (ja UniDic ``pos1.pos2.cForm``, ko Sejong tag)."""
    is_function: bool = False
    """Particles (ko) that matching skips; they still count for negation scope."""


@dataclass(frozen=True)
class Analyzer:
    """Tokenizes normalized text into ``Token`` s; ``name`` records the libraries and their versions."""

    language: str
    name: str
    analyze: Callable[[str], list[Token]]


def _version(package: str) -> str:
    try:
        return version(package)
    except PackageNotFoundError as exc:
        raise MissingExtraError("metric v1.1 (the lexicon-v1.1 scorer)", "lexicon", module=package) from exc


def _word_pattern(language: str) -> re.Pattern[str]:
    word = rf"[\w{combining_marks()}]+"
    if language == "en":  # keep "won't", "don't" whole, so the negation is one token
        return re.compile(rf"{word}(?:['’]t(?![\w]))?", re.UNICODE)
    return re.compile(word, re.UNICODE)


_SNOWBALL = {"en": "english", "de": "german", "fr": "french", "es": "spanish", "pt": "portuguese",
             "ru": "russian", "tr": "turkish", "id": "indonesian", "ar": "arabic", "hi": "hindi"}
"""Languages with both a simplemma dictionary and a Snowball stemmer."""


def _spaced(language: str, keyer: Callable[[str], str] | None) -> Callable[[str], list[Token]]:
    pattern = _word_pattern(language)
    cache: dict[str, str] = {}

    def analyze(text: str) -> list[Token]:
        tokens = []
        for match in pattern.finditer(text):
            surface = match.group()
            key = cache.get(surface)
            if key is None:
                # a contracted negation keeps its form: the lemmatizer would turn "won't" into "will"
                key = keyer(surface) if keyer and not surface.endswith(("n't", "n’t")) else surface
                if len(cache) > _CACHE_LIMIT:
                    cache.clear()
                cache[surface] = key
            tokens.append(Token(surface, key, match.start(), match.end()))
        return tokens

    return analyze


def _lemmatizer(language: str) -> Callable[[str], str]:
    """A simplemma lemmatizer that keeps this language's dictionary loaded: the shared default caches 8
    languages, so scoring 16 interleaved reloads them (seconds each) over and over."""
    from simplemma import Lemmatizer
    from simplemma.strategies import DefaultStrategy
    from simplemma.strategies.dictionaries import DefaultDictionaryFactory

    lemmatizer = Lemmatizer(lemmatization_strategy=DefaultStrategy(
        dictionary_factory=DefaultDictionaryFactory(cache_max_size=1)))

    def lemma(word: str) -> str:
        return lemmatizer.lemmatize(word, lang=language).casefold()

    return lemma


def _lemma_stem(language: str, keep_surface: frozenset[str], keep_lemma: frozenset[str]
                ) -> tuple[Callable[[str], str], str]:
    import Stemmer

    lemma = _lemmatizer(language)
    if language == "tr":  # Snowball's Turkish stemmer is for nominals; the verb's lemma must stay whole, so the
        # negative suffix after it is readable (scoring.negation.turkish_negative)
        stem: Callable[[str], str] = str
        name = f"simplemma-{_version('simplemma')}"
    else:
        stem = Stemmer.Stemmer(_SNOWBALL[language]).stemWord
        name = f"simplemma-{_version('simplemma')}+snowball-{_SNOWBALL[language]}(PyStemmer-{_version('PyStemmer')})"

    def key(word: str) -> str:
        if word in keep_surface:  # the dictionary sends it to another word (es fuera -> ser)
            return word
        base = lemma(word)
        return base if base in keep_lemma else stem(base)  # de gewissen would stem to gewiss ("certain")

    return key, name


def _japanese() -> tuple[Callable[[str], list[Token]], str]:
    import fugashi
    import unidic_lite

    tagger = fugashi.Tagger(f'-d "{unidic_lite.DICDIR}"')

    def analyze(text: str) -> list[Token]:
        tokens, position = [], 0
        for word in tagger(text):
            surface = word.surface
            start = text.find(surface, position)
            if start < 0:  # MeCab never drops characters but may normalize; keep offsets monotone
                start = position
            position = start + len(surface)
            lemma = word.feature.lemma
            if not lemma or lemma == "*":
                lemma = surface
            lemma = lemma.split("-")[0]  # UniDic marks some lemmas with a gloss (e.g. "為る-為")
            feature = word.feature
            tokens.append(Token(surface, lemma, start, position, f"{feature.pos1}.{feature.pos2}.{feature.cForm}"))
        return tokens

    return analyze, f"fugashi-{_version('fugashi')}+unidic-lite-{_version('unidic-lite')}"


def _korean() -> tuple[Callable[[str], list[Token]], str]:
    from kiwipiepy import Kiwi

    kiwi = Kiwi()

    def analyze(text: str) -> list[Token]:
        return [Token(t.form, t.form, t.start, t.start + t.len, t.tag, t.tag[:1] in ("J", "S"))
                for t in kiwi.tokenize(text)]

    return analyze, f"kiwipiepy-{_version('kiwipiepy')}+kiwipiepy_model-{_version('kiwipiepy_model')}"


def _chinese() -> tuple[Callable[[str], list[Token]], str]:
    import logging

    import jieba

    jieba.setLogLevel(logging.WARNING)
    segmenter = jieba.Tokenizer()

    def analyze(text: str) -> list[Token]:
        return [Token(word, word, start, end) for word, start, end in segmenter.tokenize(text)
                if not word.isspace()]

    return analyze, f"jieba-{_version('jieba')}"


def _thai() -> tuple[Callable[[str], list[Token]], str]:
    from pythainlp.tokenize import word_tokenize

    def analyze(text: str) -> list[Token]:
        tokens, position = [], 0
        for word in word_tokenize(text, engine="newmm", keep_whitespace=False):
            start = text.find(word, position)
            if start < 0:
                continue
            position = start + len(word)
            tokens.append(Token(word, word, start, position))
        return tokens

    return analyze, f"pythainlp-{_version('pythainlp')}(newmm)"


@functools.cache
def analyzer_for(language: str, keep_surface: frozenset[str] = frozenset(),
                 keep_lemma: frozenset[str] = frozenset()) -> Analyzer:
    """The analyzer of a language (built once per process; ja, zh, ko and th load their dictionaries here).

    ``keep_surface`` and ``keep_lemma`` are a pack's corrections for the lemmatizer-stemmer languages
    (``lexicon_lemmas.yaml``, ``analysis``): word forms keyed as written, and lemmas left unstemmed.
    """
    if language in _SNOWBALL:
        key, name = _lemma_stem(language, keep_surface, keep_lemma)
        if keep_surface or keep_lemma:
            name += f"+exceptions({len(keep_surface)} surface, {len(keep_lemma)} lemma)"
        return Analyzer(language, name, _spaced(language, key))
    builders = {"ja": _japanese, "ko": _korean, "zh": _chinese, "th": _thai}
    if language in builders:
        analyze, name = builders[language]()
        return Analyzer(language, name, analyze)
    return Analyzer(language, "surface-words", _spaced(language, None))


ANALYZERS = {**{code: "simplemma lemma + Snowball stem (PyStemmer)" for code in _SNOWBALL}, "tr": "simplemma lemma",
             "ja": "fugashi + unidic-lite (UniDic lemma)", "ko": "kiwipiepy (morphemes)", "zh": "jieba",
             "th": "pythainlp newmm", "vi": "surface syllables", "bn": "surface words (v1 stems)"}
"""The analyzer family per language, for docs and provenance; ``analyzer_for(code).name`` has the versions."""
