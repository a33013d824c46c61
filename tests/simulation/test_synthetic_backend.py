from __future__ import annotations

import duckdb

from core.study import parse_study
from simulation.backends.synthetic import resolve_profile
from simulation.stages import record_design, simulate_study
from tests.test_helpers.studies import small_study_dict
from warehouse.schema import ensure_raw_schema


def test_planted_profiles_encode_the_paper_directions() -> None:
    assert resolve_profile("any-model", "en").planted_direction == "reduced"
    assert resolve_profile("any-model", "ja").planted_direction == "amplified"
    assert resolve_profile("gpt-4o-mini", "ja").planted_direction == "reduced"
    assert resolve_profile("llama-3.3-70b-instruct", "ja").planted_direction == "amplified"
    assert resolve_profile("gpt-4o-mini", "en").planted_direction == "reduced"


def test_japanese_di_rises_under_alignment_in_every_model_profile() -> None:
    """Study 2: DI rises with alignment; Study 4: only the Japanese CPI backfire is model-specific."""
    from simulation.backends.synthetic import load_effects

    for model in ["any-model", *load_effects()["models"]]:
        assert resolve_profile(model, "ja").planted_di_direction == "amplified", model
        assert resolve_profile(f"synthetic:{model}", "ja") == resolve_profile(model, "ja")  # the stored name
    for language in ("en", "de", "ja", "ko"):  # the demo's languages
        assert resolve_profile("demo", language).planted_di_direction == "amplified", language


def test_synthetic_models_are_stored_visibly_synthetic() -> None:
    data = small_study_dict(languages=["ja"], replicates=1, aligned_shares=[1.0], n_turns=1)
    data["models"] = [{"name": "gpt-4o-mini"}, {"name": "real-one", "backend": "openai"}]
    con = duckdb.connect()
    ensure_raw_schema(con)
    record_design(con, parse_study(data, "s"))
    models = [m for (m,) in con.execute("select distinct model from raw.runs order by 1").fetchall()]
    assert models == ["real-one", "synthetic:gpt-4o-mini"]
    planted = con.execute("select planted_cpi_direction from raw.runs where model = 'synthetic:gpt-4o-mini'").fetchone()
    assert planted == ("reduced",)  # the effects file is looked up by the bare name


def test_models_of_one_study_keep_their_own_profiles() -> None:
    data = small_study_dict(languages=["ja"], replicates=1, aligned_shares=[1.0], n_turns=6)
    data["models"] = [{"name": "gpt-4o-mini"}, {"name": "llama-3.3-70b-instruct"}]
    con = duckdb.connect()
    ensure_raw_schema(con)
    study = parse_study(data, "s")
    record_design(con, study)
    simulate_study(con, study)
    texts = con.execute("select r.model, string_agg(u.text, '|' order by u.utterance_id) from raw.utterances u "
                        "join raw.runs r using (run_id) group by 1 order by 1").fetchall()
    assert len(texts) == 2 and texts[0][1] != texts[1][1]
    assert [t[0] for t in texts] == ["synthetic:gpt-4o-mini", "synthetic:llama-3.3-70b-instruct"]


def test_synthetic_text_is_written_in_the_run_language() -> None:
    con = duckdb.connect()
    ensure_raw_schema(con)
    study = parse_study(small_study_dict(languages=["ko"], replicates=1, aligned_shares=[0.0], n_turns=2), "s")
    record_design(con, study)
    simulate_study(con, study)
    for (text,) in con.execute("select text from raw.utterances").fetchall():
        hangul = sum(1 for ch in text if "\uac00" <= ch <= "\ud7a3")
        assert hangul > 0.4 * len(text.replace(" ", "")), text


def test_a_typo_in_the_planted_effects_fails_before_any_call(monkeypatch) -> None:
    import pytest

    from core.errors import StudyConfigError
    from simulation.backends import synthetic
    from simulation.stages import load_study_content

    effects = dict(synthetic.load_effects())
    effects["languages"] = {**effects["languages"], "en": {"alignment_pathologyy": -1.0}}
    monkeypatch.setattr(synthetic, "load_effects", lambda *args: effects)
    with pytest.raises(StudyConfigError, match="alignment_pathologyy"):
        load_study_content(parse_study(small_study_dict(), "s"))
