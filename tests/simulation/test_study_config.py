from __future__ import annotations

import pytest

from core.errors import StudyConfigError
from core.study import RunOverrides, load_study, parse_overrides, parse_study
from tests.conftest import REPO_ROOT
from tests.test_helpers.studies import small_study_dict


@pytest.mark.parametrize("name", ["demo", "study1", "study2", "study3", "study4"])
def test_shipped_studies_parse(name: str) -> None:
    study = load_study(REPO_ROOT / "studies" / f"{name}.yaml")
    assert study.name == name
    assert study.design.n_agents == 10
    assert study.design.n_turns == 15


def test_malformed_yaml_names_file_and_line(write_study) -> None:
    path = write_study("name: x\nseed: [1\ndesign: {}\n")
    with pytest.raises(StudyConfigError) as info:
        load_study(path)
    message = str(info.value)
    assert str(path) in message and "line" in message and "Fix:" in message


@pytest.mark.parametrize(("change", "field", "words"), [
    ({"aligned_shares": [0.0, 1.5]}, "design.aligned_shares", "outside [0, 1]"),
    ({"replicates": 0}, "design.replicates", "greater than 0"),
    ({"aligned_shares": [0.0, 0.25]}, "design", "whole number of agents"),
    ({"languages": []}, "design.languages", "at least 1"),
    ({"individuation": [True, True]}, "design.individuation", "must be unique"),
])
def test_bad_design_values_name_the_field(write_study, change: dict, field: str, words: str) -> None:
    path = write_study(small_study_dict(**change))
    with pytest.raises(StudyConfigError) as info:
        load_study(path)
    assert info.value.file == str(path)
    assert info.value.field == field
    assert words in str(info.value)
    assert info.value.fix


def test_unknown_key_is_rejected_with_a_fix(write_study) -> None:
    data = small_study_dict()
    data["design"]["replicate"] = 3
    with pytest.raises(StudyConfigError) as info:
        load_study(write_study(data))
    assert info.value.field == "design.replicate"
    assert "spelling" in str(info.value)


def test_missing_file_is_a_clear_error(tmp_path) -> None:
    with pytest.raises(StudyConfigError, match="file not found"):
        load_study(tmp_path / "nope.yaml")


def test_overrides_are_validated_like_the_file() -> None:
    study = parse_study(small_study_dict(), "s.yaml")
    changed = RunOverrides(languages=["en"], replicates=5, backend="synthetic").apply(study)
    assert changed.design.languages == ["en"] and changed.design.replicates == 5
    with pytest.raises(StudyConfigError, match=r"replicates.*greater than 0"):
        parse_overrides({"replicates": 0}, source="backfire run")
    with pytest.raises(StudyConfigError, match="api_key_env must name an environment variable"):
        parse_overrides({"api_key_env": "sk-live-123"})
    with pytest.raises(StudyConfigError, match="not an ISO date"):
        parse_overrides({"evaluation_date": "yesterday"})
    with pytest.raises(StudyConfigError, match=r"budget\.max_cost_usd"):  # the applied study is validated again
        RunOverrides(max_cost_usd=-1.0).apply(study, source="backfire run")


def test_overrides_carry_only_what_they_set_and_reach_every_model() -> None:
    """The launcher sends only the fields set; the endpoint fields apply to every model of the study."""
    overrides = parse_overrides({"base_url": "http://127.0.0.1:9/v1", "concurrency": 8, "no_cache": False})
    assert overrides.set_fields() == {"base_url": "http://127.0.0.1:9/v1", "concurrency": 8}
    assert overrides.merged(max_calls=10).set_fields()["max_calls"] == 10
    study = overrides.merged(max_calls=10, evaluation_date="2026-12-01").apply(
        parse_study(small_study_dict(), "s.yaml"))
    assert all(m.base_url == "http://127.0.0.1:9/v1" and m.max_concurrency == 8 for m in study.models)
    assert study.budget.max_calls == 10 and study.evaluation_date.isoformat() == "2026-12-01"
    single = RunOverrides(model="my-model", base_url="http://127.0.0.1:9/v1").apply(
        parse_study(small_study_dict(), "s.yaml"))
    assert [(m.name, m.backend) for m in single.models] == [("my-model", "openai")]


def test_probe_turns_must_lie_inside_the_conversation(write_study) -> None:
    with pytest.raises(StudyConfigError, match="probe turn 16"):
        load_study(write_study(small_study_dict(n_turns=15, probe_turns=[5, 16])))
