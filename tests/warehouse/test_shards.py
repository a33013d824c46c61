"""Language shards: taking over a warehouse written before shards, publishing without blocking readers, and
gathering into main (incremental, idempotent, mirroring superseded turns); a shard's cache answers from main."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.study import parse_study
from tests.test_helpers.studies import fill_warehouse, small_study_dict
from warehouse.connection import connect
from warehouse.gather import gather_shards
from warehouse.shards import layout, live_path, open_live, open_published, publish, published_path, writing

DESIGN = {"replicates": 1, "n_agents": 4, "n_turns": 2}


def _counts(con, language: str | None = None) -> dict[str, int]:
    where = "where run_id in (select run_id from raw.runs where language = ?)" if language else ""
    params = [language] if language else []
    return {
        "utterances": con.execute(f"select count(*) from raw.utterances {where}", params).fetchone()[0],
        "superseded": con.execute(f"select count(*) from raw.utterances_superseded {where}", params).fetchone()[0],
        "scores": con.execute("select count(*) from raw.scores where utterance_id in "
                              f"(select utterance_id from raw.utterances {where})", params).fetchone()[0],
    }


@pytest.fixture()
def legacy(tmp_path: Path) -> Path:
    """A main file written before shards: a small study in en and ja, simulated and scored."""
    main = tmp_path / "w.duckdb"
    with connect(main) as con:
        fill_warehouse(con, **DESIGN)
    return main


def test_a_new_shard_takes_over_main_and_gathering_it_back_changes_nothing(legacy: Path) -> None:
    with connect(legacy, read_only=True) as con:
        before, total = _counts(con, "en"), _counts(con)
    with writing(legacy, "small", "en") as shard:
        assert _counts(shard) == before and before["utterances"] > 0
        assert shard.execute("select count(distinct language) from raw.runs").fetchone()[0] == 1
        assert shard.execute("select count(*) from raw.studies").fetchone()[0] == 1  # the contracts' floors
    assert published_path(legacy, "small", "en").is_file()
    with connect(legacy) as con:
        first = gather_shards(con, legacy)
        assert first.loaded == ["small/en"] and first.utterances == before["utterances"]
        assert _counts(con) == total  # the shard is main's own rows: nothing lost, nothing doubled
        second = gather_shards(con, legacy)
        assert second.loaded == [] and second.unchanged == 1  # incremental: an unchanged shard is skipped
        assert _counts(con) == total


def test_gather_mirrors_turns_the_shard_superseded(legacy: Path) -> None:
    from warehouse.transcripts import DuckDBTranscriptStore

    with writing(legacy, "small", "ja") as shard:
        run_id = shard.execute("select min(run_id) from raw.runs").fetchone()[0]
        moved = DuckDBTranscriptStore(shard).retire_turns_after({run_id: 1})  # turn 2 is played again
        assert moved > 0
        expected = _counts(shard)
    with connect(legacy) as con:
        gather_shards(con, legacy)
        assert _counts(con, "ja") == expected
        left = con.execute("select count(*) from raw.utterances where run_id = ? and turn > 1", [run_id]).fetchone()
        assert left[0] == 0
        assert con.execute("select count(*) from raw.utterances_superseded where run_id = ?",
                           [run_id]).fetchone()[0] == moved


def test_a_reader_of_the_published_shard_never_blocks_its_writer(legacy: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BACKFIRE_LOCK_WAIT_S", "0")  # any lock wait would fail at once
    with writing(legacy, "small", "en"):
        pass
    held = open_published(legacy, "small", "en")
    assert held is not None
    try:
        generation = held.execute("select generation from raw.shard_meta").fetchone()[0]
        with writing(legacy, "small", "en") as shard:  # the live file: the reader holds only the published copy
            shard.execute("delete from raw.scores")
        publish(legacy, "small", "en")  # a rename over the copy the reader has open
        assert held.execute("select generation from raw.shard_meta").fetchone()[0] == generation  # its snapshot
        assert held.execute("select count(*) from raw.scores").fetchone()[0] > 0
    finally:
        held.close()
    fresh = open_published(legacy, "small", "en")
    assert fresh is not None
    with fresh:
        assert fresh.execute("select generation from raw.shard_meta").fetchone()[0] == generation + 2
        assert fresh.execute("select count(*) from raw.scores").fetchone()[0] == 0


def test_a_shard_resumes_a_warehouse_written_before_shards_without_paying_again(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """main holds every paid completion but only the first turn (a run killed before it stored the second): the
    new shard takes over the first turn, and main's cache answers the second, so no call reaches the endpoint."""
    from simulation.stages import record_content, record_design, simulate_study
    from tests.test_helpers.openai_server import serve_openai
    from warehouse.schema import ensure_raw_schema

    monkeypatch.setenv("BACKFIRE_SHARD_TEST_KEY", "sk-test-shard-0000")
    main = tmp_path / "w.duckdb"
    with serve_openai() as (fake, url):
        data = small_study_dict(languages=["en"], **DESIGN)
        data["models"] = [{"name": "tiny-chat", "backend": "openai", "base_url": url,
                           "api_key_env": "BACKFIRE_SHARD_TEST_KEY"}]
        study = parse_study(data, "shard test")
        with connect(main) as con:
            ensure_raw_schema(con)
            record_content(con, study)
            record_design(con, study)
            simulate_study(con, study)
            paid = len(fake.requests)
            con.execute("delete from raw.utterances where turn = 2")
        with writing(main, study.name, "en") as shard:
            assert shard.execute("select max(turn) from raw.utterances").fetchone()[0] == 1
            stats = simulate_study(shard, study, cache_fallback=main)
            assert len(fake.requests) == paid and stats.cache_hits > 0
            complete = shard.execute("select count(*) from raw.utterances").fetchone()[0]
            copied = shard.execute("select count(*) from raw.llm_calls").fetchone()[0]
        assert copied == stats.cache_hits  # main's answers now live in the shard too
    assert live_path(main, study.name, "en").is_file()
    with open_live(main, study.name, "en") as again:  # an existing shard is not taken over twice
        assert again.execute("select count(*) from raw.utterances").fetchone()[0] == complete


def test_the_layout_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from core.errors import BackfireError

    monkeypatch.delenv("BACKFIRE_LAYOUT", raising=False)
    assert layout() == "sharded"
    monkeypatch.setenv("BACKFIRE_LAYOUT", "Single")
    assert layout() == "single"
    monkeypatch.setenv("BACKFIRE_LAYOUT", "sqlite")
    with pytest.raises(BackfireError, match="BACKFIRE_LAYOUT") as error:
        layout()
    assert "sharded" in str(error.value)
