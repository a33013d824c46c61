from __future__ import annotations

import pytest

from core.errors import StudyConfigError
from core.study import apply_overrides, load_study, parse_study
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
    changed = apply_overrides(study, languages=["en"], replicates=5, backend="synthetic")
    assert changed.design.languages == ["en"] and changed.design.replicates == 5
    with pytest.raises(StudyConfigError):
        apply_overrides(study, replicates=0)


def test_probe_turns_must_lie_inside_the_conversation(write_study) -> None:
    with pytest.raises(StudyConfigError, match="probe turn 16"):
        load_study(write_study(small_study_dict(n_turns=15, probe_turns=[5, 16])))
