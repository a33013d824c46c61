"""The validation tables the CLI and the report print show a scorer's newest evaluation per language: an edited
lexicon gets a new model_id, and its older evaluation stays ``is_latest`` for the old one."""

from __future__ import annotations

import duckdb

from analysis.scorer_validation import f1_rows


def test_the_newest_evaluation_of_a_language_is_shown_not_a_mix_with_an_older_model_id() -> None:
    con = duckdb.connect()
    con.execute("create schema marts")
    con.execute("""create table marts.scorer_validation as select * from (values
        ('lexicon-v1.1', '1.1', 'lexicon/ja@1.2.0', 'ja', 'test', timestamp '2026-12-06 10:00', 'overall', null,
         32, 0.31::double, null, null, 0.4, 0.2, 0, 0, 1.0, true, true),
        ('lexicon-v1.1', '1.1', 'lexicon/ja@1.2.0+lemmas@1.2.0', 'ja', 'test', timestamp '2026-12-06 11:00',
         'overall', null, 32, 0.91::double, null, null, 0.9, 0.8, 0, 0, 1.0, false, true))
        t(scorer, scorer_version, model_id, language, split, evaluated_at, breakdown, category, n, f1, precision,
          recall, accuracy, kappa, n_disagreed, n_abstained, gold_kappa_label, f1_warning, is_latest)""")
    (row,) = f1_rows(con)
    assert (row["language"], row["f1"], row["f1_warning"]) == ("ja", 0.91, False)
