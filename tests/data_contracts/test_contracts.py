from __future__ import annotations

import duckdb
import pytest

from data_contracts.design import validate_agents, validate_runs
from data_contracts.scores import validate_scores
from data_contracts.transcripts import validate_utterances
from tests.test_helpers.studies import fill_warehouse

pytestmark = pytest.mark.slow  # imports Great Expectations (~6 s)


@pytest.fixture(scope="module")
def con() -> duckdb.DuckDBPyConnection:
    """Shared by the module's tests, which only read it (a test changes a DataFrame copy, never the tables)."""
    connection = duckdb.connect()
    fill_warehouse(connection, replicates=1, n_turns=2)
    return connection


def test_valid_stages_pass_their_contracts(con: duckdb.DuckDBPyConnection) -> None:
    for result in (validate_runs(con.sql("select * from raw.runs").df()),
                   validate_agents(con.sql("select * from raw.agents").df()),
                   validate_utterances(con.sql("select * from raw.utterances").df()),
                   validate_scores(con.sql("select * from raw.scores").df())):
        assert result.success, result.summary()


def test_corrupted_transcripts_fail_naming_stage_table_column(con: duckdb.DuckDBPyConnection) -> None:
    frame = con.sql("select * from raw.utterances").df()
    frame.loc[0, "channel"] = "shout"
    frame.loc[1, "turn"] = 99
    result = validate_utterances(frame)
    assert not result.success
    text = "\n".join(result.failures)
    assert "transcripts/utterances: column channel" in text
    assert "column turn" in text


def test_share_out_of_range_and_missing_column_fail(con: duckdb.DuckDBPyConnection) -> None:
    frame = con.sql("select * from raw.runs").df()
    frame.loc[0, "aligned_share"] = 1.5
    assert any("aligned_share" in f for f in validate_runs(frame).failures)
    missing = validate_runs(frame.drop(columns=["content_hash"]))
    assert missing.failures == ["design/runs: missing column 'content_hash'"]


def test_content_packs_table_suite(con: duckdb.DuckDBPyConnection) -> None:
    from data_contracts.content import validate_content_packs

    frame = con.sql("select * from raw.content_packs").df()  # recorded by fill_warehouse, as the pipeline does
    assert len(frame)
    assert validate_content_packs(frame).success
    frame.loc[0, "n_events"] = 14
    assert any("n_events" in f for f in validate_content_packs(frame).failures)


def test_empty_table_fails(con: duckdb.DuckDBPyConnection) -> None:
    empty = con.sql("select * from raw.agents limit 0").df()
    assert validate_agents(empty).failures == ["design/agents: table is empty"]


def test_a_null_score_that_did_not_abstain_fails(con: duckdb.DuckDBPyConnection) -> None:
    frame = con.sql("select * from raw.scores").df()
    frame.loc[0, "value"] = None
    assert any("NULL value" in f for f in validate_scores(frame).failures)


def test_mart_contracts_catch_out_of_range_measures_failed_runs_and_missing_languages() -> None:
    import pandas as pd

    from data_contracts.marts import validate_backfire, validate_run_metrics

    runs = pd.DataFrame({"run_id": ["a", "b", "c"], "study": "s", "language": ["en", "en", "ja"], "model": "m",
                         "aligned_share": [0.0, 1.0, 0.0], "monologue_ratio": [0.2, 0.3, 0.4],
                         "pathology_rate": [1.0, 2.0, 0.5], "protective_rate": [3.0, 1.0, 2.0],
                         "cpi": [0.1, -0.2, 0.3], "di": [0.0, 0.1, 0.2], "n_errors": [0, 0, 1], "n_replies": [150] * 3})
    assert validate_run_metrics(runs).success
    broken = runs.assign(monologue_ratio=[0.2, 1.5, 0.4], n_errors=[0, 0, 60], n_replies=[150, 150, 90])
    failures = "\n".join(validate_run_metrics(broken).failures)
    assert "monologue_ratio" in failures and "1 runs have more than 20% failed calls (e.g. c)" in failures
    effects = pd.DataFrame({"study": "s", "language": ["en"], "model": "m", "n_low": [1], "n_high": [1],
                            "hedges_g": [None], "p_value": [None], "direction": [None]})
    assert validate_backfire(effects, ["en"]).success
    assert "no effect row for ja" in "\n".join(validate_backfire(effects, ["en", "ja"]).failures)


def test_language_fidelity_under_the_floor_fails_the_scores_contract() -> None:
    import pandas as pd

    from data_contracts.scores import validate_scores

    def rows(language: str, in_language: list[float]) -> list[dict]:
        return [dict(utterance_id=f"{language}{i}", scorer="langid", scorer_version="1", model_id="py3langid",
                     dimension="in_language", value=v, abstained=False, language=language)
                for i, v in enumerate(in_language)]

    frame = pd.DataFrame(rows("en", [1.0] * 10) + rows("ja", [1.0] * 6 + [0.0] * 4))
    failures = validate_scores(frame).failures
    assert len(failures) == 1 and "language fidelity of ja is 60%" in failures[0]


def _langid_rows(language: str, in_language: list[float], **extra: object) -> list[dict]:
    return [dict(utterance_id=f"{language}{i}", scorer="langid", scorer_version="1", model_id="py3langid",
                 dimension="in_language", value=v, abstained=False, language=language, **extra)
            for i, v in enumerate(in_language)]


def test_a_lowered_fidelity_floor_passes_what_the_default_floor_fails_and_the_failure_names_both_settings() -> None:
    import pandas as pd

    low = _langid_rows("ja", [1.0] * 6 + [0.0] * 4, study="s")
    (failure,) = validate_scores(pd.DataFrame(low)).failures  # no floor recorded: the default, 0.8
    assert "language fidelity of ja in study s is 60%" in failure and "under the floor of 80%" in failure
    assert "quality.min_language_fidelity" in failure and "--min-language-fidelity" in failure
    assert validate_scores(pd.DataFrame(low).assign(min_language_fidelity=0.5)).success
    assert not validate_scores(pd.DataFrame(low).assign(min_language_fidelity=0.8)).success


def test_the_fidelity_floor_given_on_the_command_line_is_recorded_with_the_study_and_held_by_the_contract() -> None:
    from core.study import RunOverrides, parse_study
    from data_contracts.warehouse_check import table_contracts
    from simulation.stages import record_design
    from tests.test_helpers.studies import small_study_dict

    connection = duckdb.connect()
    fill_warehouse(connection, languages=["en"], replicates=1, n_turns=1)
    connection.execute("""
        insert into raw.scores select utterance_id, 'langid', '1', 'py3langid', 'in_language',
               case when agent_idx < 6 then 1.0 else 0.0 end, false, now() from raw.utterances""")
    scores = {c.name: c for c in table_contracts()}["scores_contract"]
    (failure,) = scores.check(connection, "small").failures  # 60% in English, default floor 0.8
    assert "language fidelity of en in study small is 60%" in failure
    study = parse_study(small_study_dict(languages=["en"], replicates=1, n_turns=1), "s.yaml")
    record_design(connection, RunOverrides(min_language_fidelity=0.5).apply(study))
    assert connection.execute("select min_language_fidelity from raw.studies").fetchone() == (0.5,)
    assert scores.check(connection, "small").success


def test_the_truncation_gate_fails_a_language_over_the_studys_share_and_names_the_field_and_the_fix() -> None:
    import pandas as pd

    def calls(language: str, truncated: int, total: int = 20) -> list[dict]:
        rows = []
        for i in range(total):
            status = "truncated" if i < truncated else "ok"
            for channel in ("talk", "monologue"):  # a monologue shares its talk row's call: counted once
                rows.append(dict(utterance_id=f"{language}{i}{channel}", run_id=f"r{language}", turn=1 + i // 10,
                                 agent_idx=i % 10, channel=channel, text="x", status=status, tokens_in=1,
                                 tokens_out=1, latency_ms=1.0, cache_hit=False, model="m", backend="openai",
                                 study="s", language=language))
        return rows

    frame = pd.DataFrame(calls("en", 1) + calls("th", 2))  # 5% of en's calls (at the limit), 10% of th's
    (failure,) = validate_utterances(frame).failures
    assert "2 of 20 calls (study s, language th) (10.0%) were cut off at max_tokens" in failure
    assert "quality.max_truncated_share of 5.0%" in failure and "Fix: raise models[].max_tokens" in failure
    assert validate_utterances(frame.assign(max_truncated_share=0.1)).success
    assert not validate_utterances(frame.assign(max_truncated_share=0.04)).success  # en fails too
    assert len(validate_utterances(frame.assign(max_truncated_share=0.04)).failures) == 2
