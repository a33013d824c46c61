"""Metric v1.1 end to end: two studies with one design, one on v1 (scorer lexicon) and one on v1.1 (scorer
lexicon-v1.1); the marts read each study's own lexicon and say which in ``metric_spec``. One dbt run."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from tests.test_helpers.studies import small_study_dict

pytest.importorskip("simplemma", reason="metric v1.1 needs the lexicon extra")
pytestmark = [pytest.mark.slow, pytest.mark.integration]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from core.study import parse_study
    from scoring import get_scorer, score_pending
    from simulation.stages import record_design, simulate_study
    from tests.test_helpers.warehouses import run_models
    from warehouse.schema import ensure_raw_schema

    path = tmp_path_factory.mktemp("metric_v11") / "warehouse.duckdb"
    with duckdb.connect(str(path)) as con:
        ensure_raw_schema(con)
        for name, spec in (("paper", "v1"), ("stance", "v1.1")):
            data = {**small_study_dict(replicates=2, n_turns=3), "name": name, "analysis": {"metric_spec": spec}}
            study = parse_study(data, name)
            record_design(con, study)
            simulate_study(con, study)
        score_pending(con, get_scorer("lexicon"))
        score_pending(con, get_scorer("lexicon-v1.1"))
    run_models(path)
    return path


def test_each_study_reads_its_own_lexicon_and_says_which(built: Path) -> None:
    with duckdb.connect(str(built), read_only=True) as con:
        specs = dict(con.execute("select study, any_value(metric_spec) from marts.run_metrics group by 1").fetchall())
        assert specs == {"paper": "v1", "stance": "v1.1"}
        cells = con.execute("""select study, count(distinct metric_spec) from marts.backfire_by_language
                               group by 1""").fetchall()
        assert cells and all(n == 1 for _, n in cells)
        assert dict(con.execute("""select study, any_value(metric_spec) from marts.backfire_by_language
                                   group by 1""").fetchall()) == specs
        # a v1.1 run's talk pathology is its lexicon-v1.1 stance hits (negated, quoted and echoed left out)
        expected, measured = con.execute("""
            with talk as (
                select s.value from raw.scores s join raw.utterances u using (utterance_id)
                join raw.runs r using (run_id)
                where r.study = 'stance' and u.channel = 'talk' and s.scorer = 'lexicon-v1.1'
                  and s.dimension = 'pathology' and u.status not in ('error', 'parse_error', 'truncated')
            )
            select (select sum(value) from talk),
                   (select sum(pathology_rate * units / 100) from (
                        select m.run_id, m.pathology_rate, sum(s.value) as units
                        from marts.run_metrics m join raw.utterances u using (run_id)
                        join raw.scores s using (utterance_id)
                        where m.study = 'stance' and u.channel = 'talk' and s.scorer = 'lexicon-v1.1'
                          and s.dimension = 'units' and u.status not in ('error', 'parse_error', 'truncated')
                        group by all))""").fetchone()
        assert expected == pytest.approx(measured)
        audit = con.execute("""select count(*) from raw.scores where scorer = 'lexicon-v1.1'
                               and dimension like '%.echoed' and value > 0""").fetchone()[0]
        assert audit > 0  # synthetic agents repeat each other's phrases: echoes are counted apart, not lost
