"""``backfire validate``: warnings (exit 0) for a language the zero-shot scorer or the PDI seed lacks, and the
shipped real-endpoint study validates."""

from __future__ import annotations

import pytest

from cli.main import main
from simulation.content import load_language
from tests.conftest import DEMO_STUDY, REPO_ROOT
from tests.test_helpers.studies import small_study_dict

FIXTURE_PACKS = REPO_ROOT / "tests" / "fixtures" / "packs"


def test_a_language_without_hypotheses_or_pdi_is_warned_about(write_study, monkeypatch: pytest.MonkeyPatch,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("BACKFIRE_PACK_PATH", str(FIXTURE_PACKS))
    data = {**small_study_dict(languages=["en", "it"]), "scorers": [{"name": "zero-shot", "model": "/m"}]}
    assert main(["validate", str(write_study(data))]) == 0
    out = capsys.readouterr().out
    warnings = [line for line in out.splitlines() if line.startswith("warning: ")]
    assert len(warnings) == 2, out
    assert "the zero-shot scorer has no hypotheses for it," in warnings[0]
    assert "scoring/hypotheses.yaml" in warnings[0]
    assert "no Power Distance Index for it," in warnings[1]
    assert "models_dbt/seeds/hofstede_power_distance.csv" in warnings[1]


def test_no_zero_shot_warning_without_the_scorer(write_study, monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("BACKFIRE_PACK_PATH", str(FIXTURE_PACKS))
    assert main(["validate", str(write_study(small_study_dict(languages=["en", "it"])))]) == 0
    out = capsys.readouterr().out
    assert "zero-shot" not in out and out.count("warning: ") == 1 and "PDI" in out


def test_shipped_study_has_no_warnings(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(DEMO_STUDY)]) == 0
    assert "warning" not in capsys.readouterr().out


def test_missing_pack_error_names_every_required_file() -> None:
    with pytest.raises(Exception, match=r"lexicon_tests.yaml and \(every language but en\) equivalence.yaml"):
        load_language("xx")


def test_the_shipped_endpoint_example_validates_with_a_key(monkeypatch: pytest.MonkeyPatch,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    from core.study import load_study

    path = REPO_ROOT / "studies" / "endpoint_example.yaml"
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    assert main(["validate", str(path)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("ok:") and "backends openai" in out and "warning" not in out
    model = load_study(path).models[0]
    assert model.backend == "openai" and model.snapshot and model.options()["base_url"].startswith("https://")
    assert model.options()["structured_output"] == "json_schema" and model.options()["api_key_env"]
