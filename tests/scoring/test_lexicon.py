from __future__ import annotations

import pytest

from scoring.base import Utterance
from scoring.lexicon import compile_lexicon
from scoring.lexicon_scorer import LexiconScorer
from scoring.text_units import count_characters, count_units, normalize
from simulation.content import Lexicon


def _lexicon(**protective: list[str]) -> Lexicon:
    return Lexicon(language="xx", version="1", pathology={
        "coercion_compliance": ["i will obey", "gehorch*"],
        "exclusion": ["expel*", "追い出す"],
        "disclosure": ["my secret"],
        "atrocity_endorsement": ["was necessary"],
    }, protective={"conformity": ["stay together"], "individuation": ["i refuse", "反対です"], **protective})


def test_spaced_scripts_match_whole_words_and_stems() -> None:
    compiled = compile_lexicon(_lexicon(), "words")
    counts = compiled.count("We should EXPEL him. Expelled! I will   obey. Unexpelled. Gehorche sofort.")
    assert counts["pathology.exclusion"] == 2  # EXPEL, Expelled; not Unexpelled
    assert counts["pathology.coercion_compliance"] == 2  # multiword across spaces, German stem
    assert counts["pathology"] == 4


def test_unspaced_scripts_match_substrings() -> None:
    compiled = compile_lexicon(_lexicon(), "characters")
    counts = compiled.count("彼を追い出すべきだ。私は反対です。")
    assert counts["pathology.exclusion"] == 1
    assert counts["individuation"] == 1
    assert counts["protective"] == 1


def test_nfkc_and_casefold_make_fullwidth_and_case_irrelevant() -> None:
    compiled = compile_lexicon(_lexicon(), "words")
    assert compiled.count("ＭＹ ＳＥＣＲＥＴ is out")["pathology.disclosure"] == 1
    assert normalize("Straße") == "strasse"


def test_units_are_words_or_characters_by_segmentation() -> None:
    assert count_units("We stay together, all of us.", "words") == 6
    assert count_units("みんなで 落ち着こう", "characters") == 9
    assert count_characters("a b\tc") == 3


def test_combining_marks_stay_inside_words() -> None:
    assert count_units("नमस्ते दुनिया", "words") == 2  # Devanagari vowel signs are marks, not word breaks
    assert count_units("আমি যাব না", "words") == 3
    compiled = compile_lexicon(_lexicon(), "words")
    assert compiled.count("We expel them")["pathology.exclusion"] == 1


def test_scorer_abstains_on_an_uncovered_language() -> None:
    scorer = LexiconScorer()
    assert scorer.score(Utterance("u1", "xx", "talk", "hello")) is None
    values = scorer.score(Utterance("u2", "en", "talk", "I refuse to vote for this."))
    assert values is not None and values["units"] == 6
    assert set(values) == set(scorer.dimensions)


@pytest.mark.parametrize("language", ["en", "ja", "de", "ko"])
def test_every_shipped_phrase_is_scored_in_its_category(language: str) -> None:
    from simulation.content import PATHOLOGY_KINDS, load_language

    scorer = LexiconScorer()
    banks = load_language(language).pack.phrases.talk
    for kind in PATHOLOGY_KINDS:
        for sentence in banks[kind]:
            values = scorer.score(Utterance("u", language, "talk", sentence.replace("{target}", "X")))
            assert values and values[f"pathology.{kind}"] >= 1 and values["protective"] == 0, sentence
    for sentence in banks["neutral"]:
        values = scorer.score(Utterance("u", language, "talk", sentence))
        assert values and values["pathology"] == 0 and values["protective"] == 0, sentence


def test_turkish_dotted_capital_i_matches_the_lowercase_entry() -> None:
    assert normalize("İtaat ediyorum") == "itaat ediyorum"


def test_the_automaton_counts_exactly_what_the_regex_specification_counts() -> None:
    """Every phrase of every pack, every lexicon entry inflected and glued to words, and edge cases."""
    from simulation.content import available_languages, load_language

    checked = 0
    for language in available_languages():
        content = load_language(language)
        compiled = compile_lexicon(content.lexicon, content.pack.segmentation)
        texts = [p for bank in (content.pack.phrases.talk, content.pack.phrases.monologue)
                 for phrases in bank.values() for p in phrases]
        entries = [e.rstrip("*") for group in (*content.lexicon.pathology.values(),
                                               *content.lexicon.protective.values()) for e in group]
        texts += [f"{e}" for e in entries] + [f"x{e}" for e in entries] + [f"{e}ler, {e}s {e}" for e in entries]
        texts += [" ".join(entries[:12]), "  ".join(entries[-12:]).upper(), "", "   ", "İTAAT itaat"]
        for text in texts:
            text = text.replace("{target}", "Mara")
            assert compiled.count(text) == compiled.count_reference(text), (language, text)
            checked += 1
    assert checked > 5000
