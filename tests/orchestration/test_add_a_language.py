"""A 17th language added by files alone (tests/fixtures/packs/it) runs end to end through Dagster."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
import yaml

from data_contracts.content import check_language
from orchestration.launch import materialize_study
from simulation.content import _load_cached
from tests.conftest import FIXTURES

pytestmark = [pytest.mark.slow, pytest.mark.integration]
ITALIAN = FIXTURES / "packs"


@pytest.fixture
def italian(monkeypatch: pytest.MonkeyPatch):
    # orchestration.definitions builds its module-level defs from the packs found at import: import it before
    # the Italian pack is on the path, so no later test of the process sees a 17th partition
    import orchestration.definitions  # noqa: F401

    monkeypatch.setenv("BACKFIRE_PACK_PATH", str(ITALIAN))
    _load_cached.cache_clear()
    yield
    _load_cached.cache_clear()


def test_fixture_pack_passes_the_content_contract(italian) -> None:
    assert check_language("it") == []


def test_seventeenth_language_runs_end_to_end(italian, tmp_path: Path) -> None:
    study = {"name": "seventeen", "seed": 17,
             "design": {"languages": ["en", "it"], "aligned_shares": [0.0, 1.0], "replicates": 2, "n_turns": 3},
             "models": [{"name": "synthetic-test", "backend": "synthetic"}]}
    path = tmp_path / "seventeen.yaml"
    path.write_text(yaml.safe_dump(study), encoding="utf-8")
    result = materialize_study(path, db=tmp_path / "w.duckdb")
    assert result.success, result.failures
    with duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True) as con:
        languages = {r[0] for r in con.execute("select language from marts.backfire_by_language").fetchall()}
        packs = con.execute("select language, provenance_method from raw.content_packs order by 1").fetchall()
        italian_talk = con.execute("select u.text from raw.utterances u join raw.runs r using (run_id) "
                                   "where r.language = 'it' and u.channel = 'talk' limit 1").fetchone()
    assert languages == {"en", "it"}
    assert [p[0] for p in packs] == ["en", "it"]
    assert italian_talk is not None and italian_talk[0]
