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


def test_the_fidelity_floor_flows_from_the_command_line_through_the_launch_config_to_the_study_resource(
        write_study, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from types import SimpleNamespace

    from cli.main import main
    from orchestration.launch import _Launcher
    from orchestration.resources import StudyResource

    path = write_study(small_study_dict())
    passed = {}
    monkeypatch.setattr("cli.run.run_and_report", lambda study, **kwargs: passed.update(kwargs) or 0)
    assert main(["run", str(path), "--min-language-fidelity", "0.5"]) == 0
    overrides = passed["overrides"]
    assert overrides.set_fields() == {"min_language_fidelity": 0.5}
    launcher = SimpleNamespace(study_path=str(path), overrides=overrides, db_path=path.parent / "w.duckdb",
                               log_level="INFO")
    config = _Launcher.run_config(launcher)["resources"]["study"]["config"]  # type: ignore[arg-type]
    study = StudyResource(**config).load()
    assert study.quality.min_language_fidelity == 0.5 and study.quality.max_truncated_share == 0.05
    assert StudyResource(study_path=str(path)).load().quality.min_language_fidelity == 0.8  # the default

    with pytest.raises(SystemExit):
        main(["run", str(path), "--min-language-fidelity", "1.5"])
    assert "must be a share between 0 and 1" in capsys.readouterr().err
