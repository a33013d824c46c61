"""Blocking gates through Dagster: a corrupted transcript table stops at its contract, before any mart."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
import yaml

from orchestration.launch import materialize_study
from tests.test_helpers.studies import small_study_dict

pytestmark = [pytest.mark.slow, pytest.mark.integration]


def test_a_corrupted_transcript_table_is_stopped_by_its_gate_before_the_marts(tmp_path: Path) -> None:
    study = tmp_path / "gated.yaml"
    study.write_text(yaml.safe_dump(small_study_dict(languages=["en", "ja"], replicates=2, n_turns=3)),
                     encoding="utf-8")
    db = tmp_path / "w.duckdb"
    assert materialize_study(study, db=db).success
    with duckdb.connect(str(db)) as con:
        con.execute("drop schema marts cascade")
        con.execute("""update raw.utterances set status = 'garbled'
                       where utterance_id = (select min(utterance_id) from raw.utterances)""")
        scores_before = con.execute("select count(*) from raw.scores").fetchone()

    result = materialize_study(study, db=db)

    assert not result.success
    report = "\n".join(result.failures)
    assert "utterances_contract" in report and "column status" in report and "garbled" in report
    assert "marts not rebuilt" in report
    with duckdb.connect(str(db), read_only=True) as con:
        marts = con.execute("select count(*) from information_schema.tables where table_schema = 'marts'").fetchone()
        scores_after = con.execute("select count(*) from raw.scores").fetchone()
    assert marts == (0,)  # nothing downstream of the gate ran: no dbt model, no statistics
    assert scores_after == scores_before
