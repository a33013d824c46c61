"""How many languages a command plays at once when ``--parallel`` is not given: the study's shape, the layout,
and ``BACKFIRE_PARALLEL`` (the test suite sets it to 1, so each test here sets or clears it itself)."""

from __future__ import annotations

import pytest

from core.errors import BackfireError
from core.study import parse_study
from orchestration.launch import MAX_DEFAULT_PARALLEL, PARALLEL_ENV_VAR, default_parallel
from tests.test_helpers.studies import small_study_dict

SIX = ["en", "ja", "de", "ko", "fr", "es"]


def _study(languages: list[str], **extra: object):
    return parse_study({**small_study_dict(languages=languages), **extra}, "s")


def _endpoint(data: dict) -> dict:
    data["models"] = [{"name": "m", "backend": "openai", "base_url": "http://127.0.0.1:9/v1"}]
    return data


def test_without_the_variable_an_endpoint_study_plays_up_to_four_languages(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(PARALLEL_ENV_VAR, raising=False)
    study = parse_study(_endpoint(small_study_dict(languages=SIX)), "s")
    assert default_parallel(study) == MAX_DEFAULT_PARALLEL
    assert default_parallel(parse_study(_endpoint(small_study_dict(languages=["en"])), "s")) == 1


def test_the_variable_replaces_the_cap_but_not_the_one_writer_rules(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(PARALLEL_ENV_VAR, "1")
    assert default_parallel(_study(SIX)) == 1
    monkeypatch.setenv(PARALLEL_ENV_VAR, " 3 ")
    assert default_parallel(_study(SIX)) == 3  # a synthetic study too: the variable is the user's word
    assert default_parallel(_study(["en", "ja"])) == 2  # never more than the study's languages
    assert default_parallel(_study(SIX, budget={"max_calls": 10})) == 1  # one process carries a budget
    monkeypatch.setenv("BACKFIRE_LAYOUT", "single")
    assert default_parallel(_study(SIX)) == 1  # one file, one writer
    monkeypatch.setenv("BACKFIRE_LAYOUT", "sharded")
    monkeypatch.setenv(PARALLEL_ENV_VAR, "")
    assert default_parallel(parse_study(_endpoint(small_study_dict(languages=SIX)), "s")) == MAX_DEFAULT_PARALLEL


@pytest.mark.parametrize("value", ["0", "two", "-1", "1.5"])
def test_a_bad_value_names_the_variable_and_the_fix(value: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(PARALLEL_ENV_VAR, value)
    with pytest.raises(BackfireError) as info:
        default_parallel(_study(SIX))
    assert f"{PARALLEL_ENV_VAR}: {PARALLEL_ENV_VAR}={value!r}" in str(info.value) and "Fix: set it to a positive" \
        in str(info.value)
