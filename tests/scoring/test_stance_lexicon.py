"""Metric v1.1 (lexicon-v1.1): lemma matching, negation scope, quotation and echo (issue 13's examples)."""

from __future__ import annotations

from pathlib import Path

import pytest

from scoring.base import Utterance
from scoring.quotation import is_inside, ngrams, quoted_regions
from scoring.stance_lexicon import stance_lexicon_for
from scoring.text_units import normalize

pytest.importorskip("simplemma", reason="metric v1.1 needs the lexicon extra")


def _hits(language: str, text: str, contexts: tuple = ()) -> dict[str, int]:
    counts = stance_lexicon_for(language).classify(normalize(text), contexts)
    totals = {f"pathology.{q}" for q in ("negated", "quoted", "echoed")}
    return {k: v for k, v in counts.items()
            if v and k.startswith(("pathology.", "conformity", "individuation", "protective.general"))
            and k not in totals}


@pytest.mark.parametrize(("language", "text", "dimension"), [
    ("en", "We should not expel anyone, and I won't vote to expel her", "pathology.exclusion.negated"),
    ("ja", "外に出すべきだとは思いません", "pathology.exclusion.negated"),
    ("ja", "罰を受けるべきだとは思わない", "pathology.atrocity_endorsement.negated"),
    ("ja", "私は反対しません", "individuation.negated"),
    ("zh", "广播里说：“我宣誓效忠设施，绝不质疑任何决定。”", "pathology.coercion_compliance.quoted"),
])
def test_issue_examples_are_not_the_speakers_stance(language: str, text: str, dimension: str) -> None:
    hits = _hits(language, text)
    assert dimension in hits
    stance = dimension.rsplit(".", 1)[0]
    assert stance not in hits  # the marts read only the stance dimension


@pytest.mark.parametrize(("language", "text", "stance"), [
    ("ja", "外に出すべきだと思います", "pathology.exclusion"),
    ("ja", "罰を受けるべきだと思う", "pathology.atrocity_endorsement"),
    ("ja", "私は反対します", "individuation"),
    ("zh", "我宣誓效忠设施，绝不质疑任何决定。", "pathology.coercion_compliance"),  # negation inside the entry
])
def test_the_same_markers_affirmed_count_as_stance(language: str, text: str, stance: str) -> None:
    assert stance in _hits(language, text)


@pytest.mark.parametrize(("language", "text", "stance"), [
    ("es", "Tenemos que echarlo.", "pathology.exclusion"),
    ("es", "Expulsemos a Marta.", "pathology.exclusion"),
    ("es", "Merece un castigo.", "pathology.atrocity_endorsement"),
    ("ru", "Давайте выгоним её.", "pathology.exclusion"),
    ("de", "Wir sollten ihn rauswerfen.", "pathology.exclusion"),
])
def test_inflected_forms_are_counted(language: str, text: str, stance: str) -> None:
    assert _hits(language, text).get(stance) == 1


NEGATION_PAIRS = {
    "en": ("We should expel her.", "We should not expel her."),
    "de": ("Wir sollten ihn rauswerfen.", "Wir sollten ihn nicht rauswerfen."),
    "es": ("Expulsemos a Marta.", "No expulsemos a Marta."),
    "fr": ("Il faut qu'on exclue Marc.", "Il ne faut pas qu'on exclue Marc."),
    "pt": ("Voto para expulsar o Paulo.", "Não voto para expulsar o Paulo."),
    "ru": ("Давайте выгоним её.", "Давайте не выгоним её."),
    "tr": ("Onu kovalım.", "Onu kovmayalım."),
    "id": ("Kita usir dia.", "Jangan kita usir dia."),
    "vi": ("Đuổi cổ nó đi.", "Đừng đuổi cổ nó."),
    "ar": ("يجب أن نطرده", "يجب ألا نطرده"),
    "hi": ("उसे बाहर निकालो", "उसे मत बाहर निकालो"),
    "bn": ("ওকে বের করে দেওয়াই উচিত", "ওকে বের করে দেওয়াই উচিত নয়"),
    "zh": ("我们把他轰出去吧", "我们不能把他轰出去"),
    "ja": ("彼女を追い出すべきだと思います", "彼女を追い出すべきだとは思いません"),
    "ko": ("쟤 탓이야", "쟤 탓이 아니야"),
    "th": ("ไล่มันออกไป", "อย่าไล่มันออกไป"),
}


@pytest.mark.parametrize("language", sorted(NEGATION_PAIRS))
def test_negation_moves_the_hit_to_the_negated_dimension(language: str) -> None:
    affirmed, negated = NEGATION_PAIRS[language]
    assert _hits(language, affirmed) == {"pathology.exclusion": 1}
    hits = _hits(language, negated)  # a protective entry that holds the negation (nicht rauswerfen) may add to it
    assert hits.get("pathology.exclusion.negated") == 1 and not any(k.startswith("pathology") and
                                                                    not k.endswith(".negated") for k in hits)


def test_negation_is_clause_bounded() -> None:
    assert _hits("en", "I won't lie to you, we should expel her.") == {"pathology.exclusion": 1}
    assert _hits("en", "We have no choice but to expel her.") == {"pathology.exclusion": 1}


def test_clauses_end_at_thai_spaces_and_not_at_german_modal_particles() -> None:
    # "We shouldn't punish (her). We must drive her out": the first clause's negation stops at the space
    assert _hits("th", "เราไม่ควรลงโทษ เราต้องไล่เธอออกไป").get("pathology.exclusion") == 1
    assert _hits("th", "เราไม่ควรไล่เธอออกไป").get("pathology.exclusion.negated") == 1
    # aber as a modal particle ("Don't punish her, though!") is inside the clause its nicht negates
    assert _hits("de", "Bestraft sie aber nicht!") == {"pathology.atrocity_endorsement.negated": 1}


@pytest.mark.parametrize(("language", "text", "expected"), [
    ("zh", "我们能不能团结一点？", {"conformity": 1}),  # an A-not-A question (能不能) asks, it does not negate
    ("zh", "我不会如实上报她的事。", {"pathology.coercion_compliance.negated": 1}),  # the hit starts inside 不会
    ("ko", "그를 추방하면 안 됩니다.", {"pathology.exclusion.negated": 1}),  # ～면 안 되다: must not expel
    ("ko", "그를 추방해야 합니다.", {"pathology.exclusion": 1}),
    ("pt", "Não vou machucar ninguém.", {"protective.general": 1}),  # concord: the entry holds its negation
])
def test_questions_prohibitions_and_cues_the_hit_begins_inside(language: str, text: str,
                                                                expected: dict[str, int]) -> None:
    assert _hits(language, text) == expected


@pytest.mark.parametrize(("language", "text", "expected"), [
    ("es", "Te echo de menos, Ana.", {}),  # "I miss you": an idiom of echar, excluded in the pack
    ("es", "Hay que echarla de aquí.", {"pathology.exclusion": 1}),
    ("es", "Ella estaba fuera ayer.", {}),  # fuera kept as written: simplemma would read it as ser
    ("de", "Das ist gewiss richtig.", {}),  # gewiss ("certain") no longer meets Gewissen's stem
    ("de", "Mein Gewissen verbietet mir das.", {"individuation": 1}),
    ("ar", "سأقف مع القرار.", {}),  # "I'll stand with the decision": the entry is سأقف معها, not every مع
    ("ar", "سأقف معها.", {"protective.general": 1}),
    ("ja", "無視しましょう。", {"pathology.exclusion": 1}),  # a proposal, as the entry 無視しましょう means
    ("ja", "無視しました。", {}),  # "(I) ignored (it)": the past, not the volitional form the entry is written in
])
def test_pack_corrections_of_the_analyzer(language: str, text: str, expected: dict[str, int]) -> None:
    assert _hits(language, text) == expected


def test_japanese_obligation_is_not_negation() -> None:
    assert _hits("ja", "彼女を追い出さなければならないと思います").get("pathology.exclusion.negated") is None


def test_quotation_marks_of_every_script() -> None:
    for text in ('a "b" c', "a “b” c", "a „b“ c", "a «b» c", "a 「b」 c", "a 『b』 c"):
        (start, end), = quoted_regions(text)
        assert text[start:end] == "b"
    assert quoted_regions("a 「b『c』d」 e") == [(3, 8)]  # nested: the outermost pair
    assert quoted_regions('unclosed " quote') == []
    assert is_inside([(5, 10)], 4, 10) and not is_inside([(5, 10)], 0, 11)  # at least half of the hit inside
    # ASCII single quotes as quotation marks; apostrophes inside words (don't, Arthur's, l'exclure) are not
    text = "Tom said: 'let him freeze, he's not one of us.' Don't expel Arthur's friend; l'exclure?"
    assert [text[a:b] for a, b in quoted_regions(text)] == ["let him freeze, he's not one of us."]
    assert _hits("en", "They want us to say 'I will obey the facility in all things.'") == {
        "pathology.coercion_compliance.quoted": 1}


def test_condemning_by_quoting_is_not_endorsement() -> None:
    hits = _hits("en", 'She said "we should expel her". That is cruel.')
    assert hits.get("pathology.exclusion.quoted") == 1 and "pathology.exclusion" not in hits


def test_verbatim_echo_of_the_event_or_another_agent_is_not_stance() -> None:
    oath = ngrams(normalize("我宣誓效忠设施，绝不质疑任何决定。"), spaced=False)
    hits = _hits("zh", "我宣誓效忠设施，绝不质疑任何决定。", (oath,))
    assert hits == {"pathology.coercion_compliance.echoed": 2}
    other = ngrams(normalize("Honestly, we should expel her before this gets worse."), spaced=True)
    assert _hits("en", "Someone said we should expel her before this gets worse.", (other,)) == \
        {"pathology.exclusion.echoed": 1}
    assert _hits("en", "I think we should expel her now.", (other,)) == {"pathology.exclusion": 1}


def test_scorer_writes_stance_and_audit_dimensions() -> None:
    from scoring import get_scorer

    scorer = get_scorer("lexicon-v1.1")
    values = scorer.score(Utterance("u1", "en", "talk", "We should not expel her. I refuse to report anyone."))
    assert values is not None and set(values) == set(scorer.dimensions)
    assert values["pathology"] == 0 and values["pathology.negated"] == 1
    assert values["units"] == 10
    assert scorer.score(Utterance("u2", "xx", "talk", "text")) is None
    assert "fugashi" in scorer.model_id("ja") and "simplemma" in scorer.model_id("en")


def test_the_cli_and_a_study_can_name_it() -> None:
    from core.study import parse_study
    from scoring.spec import parse_scorer
    from tests.test_helpers.studies import small_study_dict

    assert parse_scorer("lexicon-v1.1").name == "lexicon-v1.1"
    study = parse_study({**small_study_dict(), "analysis": {"metric_spec": "v1.1"}}, "study.yaml")
    assert study.analysis.metric_spec == "v1.1"
    assert parse_study(small_study_dict(), "study.yaml").analysis.metric_spec == "v1"  # paper-faithful default


@pytest.mark.slow  # imports Dagster
def test_a_v11_study_runs_lexicon_v11_after_the_lexicon() -> None:
    from core.study import parse_study
    from orchestration.assets.scoring import ScoringConfig, _scorers
    from tests.test_helpers.studies import small_study_dict

    class _Study:
        def __init__(self, spec: str) -> None:
            self.study = parse_study({**small_study_dict(), "analysis": {"metric_spec": spec}}, "study.yaml")

        def load(self) -> object:  # what StudyResource.load gives the asset
            return self.study

    assert [s.name for s in _scorers(ScoringConfig(), _Study("v1.1"))] == ["lexicon", "lexicon-v1.1"]
    assert [s.name for s in _scorers(ScoringConfig(), _Study("v1"))] == ["lexicon"]


@pytest.mark.parametrize(("language", "text"), [
    ("en", "They keep saying I will obey the facility in all things, as if that settles it."),
    ("ja", "私はすべてにおいて施設に従いますなんて、言いたくない。"),
])
def test_echoing_the_oath_of_the_event_text_is_not_compliance(language: str, text: str) -> None:
    from scoring import get_scorer

    scorer = get_scorer("lexicon-v1.1")
    after = scorer.score(Utterance("u", language, "talk", text, "run", 10, 0))  # turn 10 shows the oath
    before = scorer.score(Utterance("u", language, "talk", text, "run", 9, 0))
    assert after is not None and before is not None
    assert after["pathology.coercion_compliance.echoed"] == 1 and after["pathology"] == 0
    assert before["pathology.coercion_compliance"] == 1  # not yet shown: the words are the speaker's own
    short = scorer.score(Utterance("u", "ja", "talk", "私は施設に従います。", "run", 10, 0))
    assert short is not None and short["pathology"] == 1  # under 8 shared characters: not an echo


def test_a_bad_analysis_section_names_file_field_and_fix(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import shutil

    from core.errors import LanguagePackError
    from scoring.stance_lexicon import analysis_options
    from simulation.content import BUILTIN_PACK_ROOT

    pack = tmp_path / "es"
    shutil.copytree(BUILTIN_PACK_ROOT / "es", pack)
    lemmas = pack / "lexicon_lemmas.yaml"
    lemmas.write_text(lemmas.read_text(encoding="utf-8").replace("keep_surface:", "keep_surfaces:", 1),
                      encoding="utf-8")
    monkeypatch.setenv("BACKFIRE_PACK_PATH", str(tmp_path))
    with pytest.raises(LanguagePackError, match=r"lexicon_lemmas\.yaml.*analysis.*keep_surface, keep_lemma, exclude"):
        analysis_options.__wrapped__("es")
