from __future__ import annotations

import duckdb

from analysis.tables import backfire_table

CREATE = """
create schema marts;
create table marts.backfire_by_language as select * from (values
    ('s', 'en', 'm', null::date, 10, 10, -1.5, -2.5, -0.5, 0.001, 0.002, 'reduced', -0.2, -1.1, 1.2, true),
    ('s', 'ja', 'm', null::date, 10, 10, 0.9, 0.1, 1.7, 0.04, 0.04, 'none', 1.4, 0.7, -0.1, false)
) t(study, language, model, evaluation_date, n_low, n_high, hedges_g, g_ci_low, g_ci_high, p_value, p_adjusted,
    direction, g_monologue_ratio, g_pathology_rate, g_protective_rate, synthetic);
create table marts.dissociation_by_language as select * from (values
    ('s', 'en', 'm', null::date, 1.1, 0.01, 'amplified', true),
    ('s', 'ja', 'm', null::date, 0.2, 0.6, 'none', false)
) t(study, language, model, evaluation_date, hedges_g, p_adjusted, direction, synthetic);
create table marts.reference_sensitivity as select * from (values
    ('s', 'ja', 'm', 'cpi', true), ('s', 'ja', 'm', 'di', false), ('s', 'en', 'm', 'cpi', false)
) t(study, language, model, metric, direction_depends_on_reference);
"""


def _table(**updates: str) -> str:
    con = duckdb.connect()
    con.execute(CREATE)
    for statement in updates.values():
        con.execute(statement)
    return backfire_table(con, "s")


def test_mixed_synthetic_rows_are_labelled_and_undated_tables_drop_the_date() -> None:
    text = _table()
    assert text.startswith("CONTAINS SYNTHETIC ROWS")
    assert "evaluation_date" not in text
    header = next(line for line in text.splitlines() if line.startswith("language"))
    assert header.split()[-1] == "synthetic"


def test_the_table_shows_adjusted_p_di_and_the_components_beside_cpi() -> None:
    lines = _table().splitlines()
    header = next(line for line in lines if line.startswith("language")).split()
    assert header[4:] == ["cpi_g", "cpi_ci", "p_value", "p_adjusted", "direction", "di_g", "di_p_adjusted",
                          "di_direction", "g_monologue", "g_pathology", "g_protective", "synthetic"]
    en = next(line for line in lines if line.startswith("en "))
    assert "[-2.50, -0.50]" in en and "amplified" in en and "-1.1" in en


def test_directions_that_depend_on_the_reference_get_a_footnote() -> None:
    footnote = _table().splitlines()[-1]
    assert footnote.startswith("Direction depends on the z reference")
    assert footnote.endswith("ja (CPI)")


def test_fully_synthetic_study_gets_the_banner() -> None:
    text = _table(update="update marts.backfire_by_language set synthetic = true")
    assert text.startswith("SYNTHETIC DATA")


def test_columns_align_by_type_and_in_display_cells() -> None:
    from analysis.display import cells
    from analysis.tables import render_table

    rows = [("en", 12, "The group agrees to wait.", 0.5), ("ja", 3, "皆で待つことにした。", None),
            ("th", 100, "กลุ่มตกลงที่จะรอ", -1.25)]
    lines = render_table(["language", "n", "talk", "g"], rows).splitlines()
    body = lines[2:]
    # every row is as wide in terminal cells as the rule under the header, whatever the script
    assert {cells(line) for line in body} == {cells(lines[1])}
    talk_start = cells(lines[0].split("talk")[0])
    for line, (_, n, talk, _) in zip(body, rows, strict=True):
        before, _, _ = line.partition(talk)
        assert cells(before) == talk_start  # text left-aligned at the column start
        assert before.rstrip().endswith(str(n))  # numbers right-aligned against the column's right edge
    assert body[1].endswith(" -") and body[2].endswith("-1.250")


def test_long_cells_are_cut_in_display_cells_with_an_ellipsis() -> None:
    from analysis.display import cells
    from analysis.tables import render_table

    long_ja = "夜のあいだ誰も施設を出られないと放送があった。" * 5
    table = render_table(["language", "talk"], [("ja", long_ja), ("en", "line one\nline two")], max_width=20)
    ja, en = table.splitlines()[2:]
    cut = ja.split("  ", 1)[1].strip()
    assert cut.endswith("…") and cells(cut) <= 20 and long_ja.startswith(cut[:-1])
    assert "line one↵line two" in en  # a newline does not break the row
    assert long_ja in render_table(["language", "talk"], [("ja", long_ja)])  # no max_width: never cut
