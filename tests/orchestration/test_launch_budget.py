"""The CLI launcher runs one Dagster run per language; the study's budget bounds the whole command."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
import yaml

from orchestration.launch import materialize_study
from tests.test_helpers.openai_server import serve_openai
from tests.test_helpers.studies import small_study_dict

pytestmark = [pytest.mark.slow, pytest.mark.integration]
pytest.importorskip("openai")


def test_a_call_budget_spans_the_languages_of_one_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BACKFIRE_TEST_KEY", "sk-test-budget-0000")
    with serve_openai() as (fake, url):
        data = small_study_dict(languages=["en", "ja"], replicates=1, aligned_shares=[0.0, 1.0], n_turns=2)
        data["models"] = [{"name": "tiny-chat", "backend": "openai", "base_url": url,
                           "api_key_env": "BACKFIRE_TEST_KEY", "max_concurrency": 1}]
        data["budget"] = {"max_calls": 50}  # en takes 40 calls, so ja may make only 10
        study = tmp_path / "budget.yaml"
        study.write_text(yaml.safe_dump(data), encoding="utf-8")
        result = materialize_study(study, db=tmp_path / "w.duckdb")
    assert not result.success
    assert fake.completions == 50
    assert any("budget.max_calls" in failure for failure in result.failures), result.failures
    assert any("marts not rebuilt" in failure for failure in result.failures)
    assert len(result.run_ids) == 3  # setup, en, ja (stopped by the budget); no marts run
    with duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True) as con:
        talk = dict(con.execute("select r.language, count(*) from raw.utterances u join raw.runs r using (run_id) "
                                "where channel = 'talk' group by 1").fetchall())
        marts = con.execute("select count(*) from information_schema.tables where table_schema = 'marts'").fetchone()
    assert talk["en"] == 40 and talk.get("ja", 0) < 40
    assert marts == (0,)
