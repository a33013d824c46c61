from __future__ import annotations

import duckdb

from core.study import parse_study
from scoring import get_scorer, score_pending
from simulation.stages import record_design, simulate_study
from tests.test_helpers.studies import small_study_dict
from warehouse.schema import ensure_raw_schema


def test_scoring_is_incremental_and_leaves_utterances_untouched() -> None:
    con = duckdb.connect()
    ensure_raw_schema(con)
    study = parse_study(small_study_dict(replicates=1), "s")
    record_design(con, study)
    simulate_study(con, study)
    before = con.execute("select * exclude (created_at) from raw.utterances order by utterance_id").fetchall()
    scorer = get_scorer("lexicon")
    first = score_pending(con, scorer, batch_size=100)
    n_utterances = len(before)
    assert first.utterances_scored == n_utterances
    assert first.rows_written == n_utterances * len(scorer.dimensions)
    second = score_pending(con, scorer)
    assert second.utterances_scored == 0 and second.rows_written == 0
    assert con.execute("select * exclude (created_at) from raw.utterances order by utterance_id").fetchall() == before
    model_ids = {r[0] for r in con.execute("select distinct model_id from raw.scores").fetchall()}
    from simulation.content import load_language

    assert model_ids == {f"lexicon/{lang}@{load_language(lang).lexicon.version}" for lang in ("en", "ja")}


def test_an_utterance_in_an_unknown_language_gets_abstained_rows() -> None:
    con = duckdb.connect()
    ensure_raw_schema(con)
    con.execute("insert into raw.runs (run_id, study, language, model, backend, aligned_share, k_aligned, n_agents, "
                "n_turns, individuation, n_individuated, replicate, seed, scenario, content_hash, history_window, "
                "synthetic, created_at) values ('r', 's', 'xx', 'm', 'synthetic', 0, 0, 10, 1, false, 0, 0, 1, "
                "'closed_facility', 'h', 3, true, now())")
    con.execute("insert into raw.utterances (utterance_id, run_id, turn, agent_idx, channel, text, status, cache_hit, "
                "model, backend, created_at) values ('u', 'r', 1, 0, 'talk', 'bonjour', 'ok', false, 'm', "
                "'synthetic', now())")
    stats = score_pending(con, get_scorer("lexicon"))
    assert stats.utterances_abstained == 1
    assert con.execute("select bool_and(abstained), count(value) from raw.scores").fetchone() == (True, 0)
