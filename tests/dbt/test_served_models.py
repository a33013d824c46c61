"""What was served: marts.served_models, its warning, the decoding settings in run_metrics, and the report."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from tests.test_helpers.warehouses import MARTS_STUDY, REAL_SERVED, REAL_SERVED_LATER, REAL_STUDY

pytestmark = [pytest.mark.slow, pytest.mark.integration, pytest.mark.xdist_group("dbt_warehouse")]


@pytest.fixture(scope="module")
def built(dbt_warehouse: Path) -> Path:
    return dbt_warehouse


def test_served_models_count_every_reply_per_requested_and_served_model(built: Path) -> None:
    with duckdb.connect(str(built), read_only=True) as con:
        synthetic = con.execute("select language, served_model, count(distinct system_fingerprint), sum(n_calls), "
                                "bool_or(served_as_requested) from marts.served_models where study = ? "
                                "group by all order by all", [MARTS_STUDY]).fetchall()
        replies = dict(con.execute("select r.language, count(*) from raw.utterances u join raw.runs r using (run_id) "
                                   "where r.study = ? and u.channel <> 'monologue' and u.status <> 'error' "
                                   "group by 1", [MARTS_STUDY]).fetchall())
        real = con.execute("select language, requested_model, served_model, system_fingerprint, served_as_requested, "
                           "first_seen <= last_seen from marts.served_models where study = ? order by all",
                           [REAL_STUDY]).fetchall()
    # The synthetic backend serves itself, one planted profile per language; nothing to compare with a request.
    assert synthetic == [(lang, "synthetic", 1, replies[lang], None) for lang in ("en", "ja")]
    model = REAL_SERVED[0]
    assert real == [("en", model, REAL_SERVED[0], REAL_SERVED[1], True, True),
                    ("en", model, REAL_SERVED_LATER[0], REAL_SERVED_LATER[1], False, True),
                    ("ja", model, REAL_SERVED[0], REAL_SERVED[1], True, True)]


def test_a_served_model_other_than_the_requested_one_is_a_warning_not_a_failure(built: Path) -> None:
    from data_contracts.warehouse_check import check_study

    with duckdb.connect(str(built), read_only=True) as con:
        real = dict(check_study(con, REAL_STUDY))["served_models_contract"]
        synthetic = dict(check_study(con, MARTS_STUDY))["served_models_contract"]
    assert real.success and not real.failures
    assert len(real.warnings) == 1
    warning = real.warnings[0]
    for part in (f"study {REAL_STUDY}", "language en", f"requested '{REAL_SERVED[0]}'",
                 f"served '{REAL_SERVED_LATER[0]}'", "pin a snapshot"):
        assert part in warning
    assert "warning:" in real.summary()
    assert synthetic.success and not synthetic.warnings


def test_run_metrics_carry_the_decoding_settings_of_each_run(built: Path) -> None:
    with duckdb.connect(str(built), read_only=True) as con:
        settings = con.execute("select distinct model, requested_model, temperature, top_p, max_tokens, decoding_seed "
                               "from marts.run_metrics where study = ?", [MARTS_STUDY]).fetchall()
    assert settings == [("synthetic:synthetic-test", "synthetic-test", 0.7, None, 400, 0)]


def test_the_report_shows_what_was_served_and_the_mismatch(built: Path) -> None:
    from analysis.report.html import study_section
    from analysis.tables import served_models_table

    with duckdb.connect(str(built), read_only=True) as con:
        markdown = served_models_table(con, REAL_STUDY, markdown=True)
        html = study_section(con, REAL_STUDY).html
        synthetic = served_models_table(con, MARTS_STUDY)
    assert REAL_SERVED_LATER[0] in markdown and "WARNING: en" in markdown and "pin a snapshot" in markdown
    assert "Models served" in html and f"served {REAL_SERVED_LATER[0]}" in html
    assert "synthetic" in synthetic and "WARNING" not in synthetic
