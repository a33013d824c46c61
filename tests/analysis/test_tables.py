from __future__ import annotations

import duckdb

from analysis.tables import backfire_table

CREATE = """
create schema marts;
create table marts.backfire_by_language as select * from (values
    ('s', 'en', 'm', null::date, 10, 10, -1.0, -2.0, -1.0, -1.5, -2.5, -0.5, 0.001, 'reduced', true),
    ('s', 'ja', 'm', null::date, 10, 10, 1.0, 2.0, 1.0, 0.9, 0.1, 1.7, 0.04, 'amplified', false)
) t(study, language, model, evaluation_date, n_low, n_high, mean_cpi_low, mean_cpi_high, slope, hedges_g,
    g_ci_low, g_ci_high, p_value, direction, synthetic)
"""


def test_mixed_synthetic_rows_are_labelled_and_undated_tables_drop_the_date() -> None:
    con = duckdb.connect()
    con.execute(CREATE)
    text = backfire_table(con, "s")
    assert text.startswith("CONTAINS SYNTHETIC ROWS")
    assert "evaluation_date" not in text
    header = next(line for line in text.splitlines() if line.startswith("language"))
    assert header.split()[-1] == "synthetic"


def test_fully_synthetic_study_gets_the_banner() -> None:
    con = duckdb.connect()
    con.execute(CREATE)
    con.execute("update marts.backfire_by_language set synthetic = true")
    assert backfire_table(con, "s").startswith("SYNTHETIC DATA")
