"""The progress line: language and its position in the command, overall turns, successful calls per second, and
failed calls counted as the budget's stop message counts them."""

from __future__ import annotations

import re
from collections.abc import Iterator
from types import SimpleNamespace

import duckdb
import pytest

from core.study import Budget, parse_study
from simulation.budget import FailureThresholdError, Spending
from simulation.progress import ProgressReporter, command_progress
from simulation.stages import record_design, simulate_study
from tests.conftest import DemoRun
from tests.test_helpers.openai_server import FakeOpenAI, serve_openai
from tests.test_helpers.studies import small_study_dict
from warehouse.schema import ensure_raw_schema

LINE = re.compile(r"simulation \[(?P<label>[^\]]+)\]: (?P<done>\d+)/(?P<total>\d+) turns \(\d+%\), (?P<calls>\d+) "
                  r"calls, (?P<failed>\d+) failed, \d+ from cache, (?P<rate>[\d.]+) ok calls/s, .*ETA \S+"
                  r"(; overall (?P<overall>\d+)/(?P<overall_total>\d+) turns \(\d+%\))?$")


def _stats(turns: int, calls: int, errors: int) -> SimpleNamespace:
    spending = Spending(Budget(), calls=calls, errors=errors)
    return SimpleNamespace(turns_written=turns, spending=spending, cache_hits=0, tokens_in=0, tokens_out=0,
                           cost_usd=0.0, parse_errors=0, reasks=0)


def test_the_line_names_the_language_and_the_overall_turns() -> None:
    with command_progress(["en", "ja", "de", "ko"], 1440) as command:
        command.finished_turns = 360  # en done
        reporter = ProgressReporter(360, languages=["ja"], planned_turns=360)
        line = reporter.line(_stats(120, 1200, 0))
    assert line.startswith("simulation [ja 2/4 languages]: 120/360 turns (33%), 1200 calls, 0 failed, ")
    assert line.endswith("; overall 480/1440 turns (33%)")


def test_stored_turns_count_in_the_overall_but_not_in_the_language_eta() -> None:
    with command_progress(["en", "ja"], 720):
        reporter = ProgressReporter(60, languages=["en"], planned_turns=360)  # 300 turns already stored
        match = LINE.match(reporter.line(_stats(30, 300, 0)))
        assert match and (match["done"], match["total"]) == ("30", "60")
        assert (match["overall"], match["overall_total"]) == ("330", "720")
        reporter.finish(_stats(60, 600, 0))
        second = ProgressReporter(360, languages=["ja"], planned_turns=360)
        match = LINE.match(second.line(_stats(0, 0, 0)))
        assert match and match["label"] == "ja 2/2 languages" and match["overall"] == "360"


def test_without_a_command_the_line_names_the_languages_and_no_overall() -> None:
    line = ProgressReporter(10, languages=["en", "ja"]).line(_stats(5, 50, 0))
    assert line.startswith("simulation [en, ja]: 5/10 turns") and "overall" not in line


def test_the_rate_counts_successful_calls_only() -> None:
    reporter = ProgressReporter(10, languages=["en"])
    reporter.started -= 10.0  # ten seconds in
    match = LINE.match(reporter.line(_stats(5, 100, 100)))
    assert match and match["failed"] == "100" and float(match["rate"]) == 0.0
    match = LINE.match(reporter.line(_stats(5, 100, 40)))
    assert match and 5.5 < float(match["rate"]) <= 6.0


@pytest.fixture
def server() -> Iterator[tuple[FakeOpenAI, str]]:
    with serve_openai() as served:
        yield served


@pytest.fixture(autouse=True)
def fast_retry_waits(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("simulation.backends.retry.BASE_DELAY_S", 0.0)


def test_the_last_line_and_the_stop_message_count_the_same_failed_calls(server) -> None:
    pytest.importorskip("openai")
    fake, url = server
    fake.faults.extend(["400"] * 500)
    data = small_study_dict(languages=["en"], replicates=1, n_turns=3)
    data["models"] = [{"name": "tiny-chat", "backend": "openai", "base_url": url, "max_concurrency": 8}]
    con = duckdb.connect()
    ensure_raw_schema(con)
    study = parse_study(data, "s")
    record_design(con, study)
    lines: list[str] = []
    with pytest.raises(FailureThresholdError) as info:
        simulate_study(con, study, use_cache=False, progress=lines.append)
    stopped = re.search(r"(\d+) of (\d+) calls failed", str(info.value))
    last = LINE.match(lines[-1])
    assert stopped and last, (str(info.value), lines[-1])
    assert (last["failed"], last["calls"]) == stopped.groups() and int(stopped[2]) >= 20
    assert float(last["rate"]) == 0.0  # every call failed: no successful calls per second


@pytest.mark.slow
@pytest.mark.integration
@pytest.mark.xdist_group("demo")
def test_a_command_over_several_languages_counts_one_overall_total(demo_run: DemoRun) -> None:
    """``backfire demo`` (four languages, side by side in worker processes) as the user saw it: each line names
    its language and place, and one overall total runs across them, kept in a dict the workers share (the
    shared demo run: no second pipeline run)."""
    from cli._common import DEMO_STUDY
    from core.study import load_study
    from tests.test_helpers.studies import n_runs

    assert demo_run.success, demo_run.failures
    lines = [m for line in demo_run.stderr.splitlines() if (m := LINE.search(line))]
    study = load_study(DEMO_STUDY)
    languages = study.design.languages
    total = n_runs(study) * study.design.n_turns
    assert {m["label"] for m in lines} == {f"{code} {i}/{len(languages)} languages"
                                          for i, code in enumerate(languages, 1)}
    assert all(m["overall_total"] == str(total) for m in lines)
    for code in languages:  # each language's own count ends complete; its overall counts the others' too
        last = [m for m in lines if m["label"].startswith(f"{code} ")][-1]
        assert last["done"] == last["total"] and int(last["overall"]) >= int(last["total"])
    assert max(int(m["overall"]) for m in lines) == total
