"""Replies cut off at max_tokens, end to end on a tiny warehouse: an OpenAI-compatible server on 127.0.0.1
answers some calls with ``finish_reason: length``; they are stored as ``truncated`` with their text, left out of
the measures by the study's exclusion rule, counted in the usage marts and per arm in the effect tables, and
the utterances contract stops the study above its truncation threshold. One dbt build."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from tests.test_helpers.studies import small_study_dict

pytest.importorskip("openai")
pytestmark = [pytest.mark.slow, pytest.mark.integration]

TRUNCATED = 12
"""Calls answered with finish_reason length: 12 of the study's 80 (15%, over the default 5% threshold)."""
CALLS = 2 * 2 * 10 * 2  # shares x replicates x agents x turns


def _study(base_url: str, **quality: float) -> dict:
    data = small_study_dict(languages=["en"], replicates=2, n_turns=2)
    data["models"] = [{"name": "tiny-chat", "backend": "openai", "base_url": base_url, "max_concurrency": 4}]
    if quality:
        data["quality"] = quality
    return data


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, object, str]]:
    from core.study import parse_study
    from orchestration.dbt.project import run_dbt
    from scoring import get_scorer, score_pending
    from simulation.stages import record_design, simulate_study
    from tests.test_helpers.openai_server import serve_openai
    from warehouse.schema import ensure_raw_schema

    path = tmp_path_factory.mktemp("exclusions") / "warehouse.duckdb"
    with serve_openai() as (fake, url), duckdb.connect(str(path)) as con:
        fake.faults.extend(["length"] * TRUNCATED)
        ensure_raw_schema(con)
        study = parse_study(_study(url), "truncating study")
        record_design(con, study)
        stats = simulate_study(con, study)
        assert stats.truncated == TRUNCATED and stats.parse_errors == 0
        assert fake.completions == CALLS  # a cut-off reply is kept, not asked again
        score_pending(con, get_scorer("lexicon"))
    done = run_dbt(["build"], path)
    assert done.returncode == 0, done.stdout[-4000:]
    yield path, study, url


def test_cut_off_replies_are_stored_as_truncated_with_both_channels_as_far_as_they_got(built) -> None:
    from tests.test_helpers.openai_server import TRUNCATED_MONOLOGUE

    path, _, _ = built
    with duckdb.connect(str(path), read_only=True) as con:
        rows = con.execute("select channel, text from raw.utterances where status = 'truncated'").fetchall()
    talks = [text for channel, text in rows if channel == "talk"]
    monologues = [text for channel, text in rows if channel == "monologue"]
    assert len(talks) == len(monologues) == TRUNCATED
    assert all(text.startswith("I hear you (") for text in talks)
    assert set(monologues) == {TRUNCATED_MONOLOGUE}  # the partial monologue, not an empty one


_RECOMPUTED = """
    select u.run_id,
           sum(s.value) filter (where s.dimension = 'characters' and u.channel = 'monologue') as mono,
           sum(s.value) filter (where s.dimension = 'characters') as chars,
           count(distinct u.utterance_id) filter (where u.channel = 'talk' and u.status = 'truncated') as cut
    from raw.utterances u join raw.scores s using (utterance_id)
    where s.scorer = 'lexicon' and u.status <> 'error' {only_kept}
    group by 1 order by 1"""


def test_truncated_replies_are_excluded_from_the_run_measures(built) -> None:
    path, _, _ = built
    with duckdb.connect(str(path), read_only=True) as con:
        mart = dict(con.execute("select run_id, monologue_ratio from marts.run_metrics").fetchall())
        rule = con.execute("select distinct exclude_statuses from marts.run_metrics").fetchall()
        excluded = con.execute("select sum(n_excluded), sum(n_replies) from marts.run_metrics").fetchone()
        kept = con.execute(_RECOMPUTED.format(only_kept="and u.status <> 'truncated'")).fetchall()
        everything = con.execute(_RECOMPUTED.format(only_kept="")).fetchall()
    assert rule == [("error,parse_error,truncated",)]  # the default rule, recorded with the data
    assert excluded == (TRUNCATED, CALLS - TRUNCATED)
    cut_runs = {run_id for run_id, *_, cut in everything if cut}
    assert len(mart) == 4 and cut_runs
    for run_id, mono, chars, _ in kept:
        assert mart[run_id] == pytest.approx(mono / chars, abs=1e-12)
    for run_id, mono, chars, _ in everything:  # counting the partial monologues would lower the ratio
        if run_id in cut_runs:
            assert mono / chars < mart[run_id] - 1e-6


def test_the_usage_marts_count_truncated_calls(built) -> None:
    path, _, _ = built
    with duckdb.connect(str(path), read_only=True) as con:
        counts = [con.execute(f"select sum(truncated_calls)::int, sum(calls)::int from marts.{mart}").fetchone()
                  for mart in ("usage_by_run", "usage_by_agent", "usage_by_language_model")]
    assert counts == [(TRUNCATED, CALLS)] * 3


def test_the_effect_tables_report_exclusions_per_arm_and_the_differential_flag(built) -> None:
    path, _, _ = built
    with duckdb.connect(str(path), read_only=True) as con:
        per_arm = dict(con.execute("""
            select r.aligned_share, count(*) filter (where u.status = 'truncated') / count(*)
            from raw.utterances u join raw.runs r using (run_id) where u.channel = 'talk' group by 1""").fetchall())
        tables = [con.execute(f"select n_excluded_low, n_excluded_high, excluded_share_low, excluded_share_high, "
                              f"differential_exclusion, exclude_statuses from marts.{mart}").fetchall()
                  for mart in ("backfire_by_language", "dissociation_by_language")]
    low, high = per_arm[0.0], per_arm[1.0]
    assert round((low + high) * 40) == TRUNCATED
    expected = (round(low * 40), round(high * 40), pytest.approx(low), pytest.approx(high),
                abs(high - low) > 0.05, "error,parse_error,truncated")
    assert tables == [[expected], [expected]]


def test_the_utterances_contract_fails_above_the_studys_truncation_threshold_and_passes_under_it(built) -> None:
    from core.study import parse_study
    from data_contracts.warehouse_check import table_contracts
    from simulation.stages import record_design

    path, study, url = built
    contract = {c.name: c for c in table_contracts()}["utterances_contract"]
    with duckdb.connect(str(path)) as con:
        (failure,) = contract.check(con, study.name).failures
        assert f"{TRUNCATED} of {CALLS} calls (study small, language en) (15.0%) were cut off" in failure
        assert "quality.max_truncated_share of 5.0%" in failure and "raise models[].max_tokens" in failure
        record_design(con, parse_study(_study(url, max_truncated_share=0.2), "relaxed study"))
        assert con.execute("select max_truncated_share from raw.studies").fetchone() == (0.2,)
        assert contract.check(con, study.name).success
        record_design(con, study)  # as it was, for any test after this one
