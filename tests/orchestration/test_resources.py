from __future__ import annotations

import pytest

from core.errors import StudyConfigError
from tests.test_helpers.studies import small_study_dict

pytestmark = pytest.mark.slow  # imports dagster


def test_the_study_resource_checks_scorers_before_any_stage_runs(write_study) -> None:
    from orchestration.resources import StudyResource

    ok = write_study({**small_study_dict(), "scorers": [{"name": "langid"}]})
    assert [entry.name for entry in StudyResource(study_path=str(ok)).load().scorers] == ["langid"]
    bad = write_study({**small_study_dict(), "scorers": [{"name": "classifier", "model": "/m", "label": {}}]})
    with pytest.raises(StudyConfigError) as info:
        StudyResource(study_path=str(bad)).load()
    assert info.value.file == str(bad) and info.value.field == "scorers[0].label"
    assert info.value.fix.startswith("did you mean labels?")
