"""A real-endpoint study exported ``--with-cache`` reproduces with zero model calls: the endpoint is gone and
its key unset when ``backfire reproduce`` runs, and every mart comes back equal."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from cli.main import main
from orchestration.launch import materialize_study, raise_for_failure
from tests.test_helpers.openai_server import serve_openai
from tests.test_helpers.studies import small_study_dict

pytestmark = [pytest.mark.slow, pytest.mark.integration]
pytest.importorskip("openai")

REPLIES = ["I'll obey the rule and stay quiet.", "I refuse to expel anyone; let's protect each other.",
           "We should all agree, for the sake of harmony.", "I think for myself here, and I disagree.",
           "Honestly, I am not sure what to say."]


def _varied(payload: dict[str, Any]) -> str:
    """A reply that depends on the whole request (agent, turn, history), so runs differ and the z-scores exist."""
    digest = int(hashlib.sha256(repr(payload["messages"]).encode()).hexdigest(), 16)
    return json.dumps({"talk": REPLIES[digest % 5], "monologue": REPLIES[digest // 5 % 5]})


def test_a_cached_endpoint_study_reproduces_with_zero_calls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("BACKFIRE_REPLAY_KEY", "sk-test-replay-0000")
    with serve_openai() as (fake, url):
        fake.responder = _varied
        data = {**small_study_dict(languages=["en"], replicates=3, n_agents=4, n_turns=2), "name": "replayed"}
        data["models"] = [{"name": "tiny-chat", "backend": "openai", "base_url": url,
                           "api_key_env": "BACKFIRE_REPLAY_KEY"}]
        study = tmp_path / "replayed.yaml"
        study.write_text(yaml.safe_dump(data), encoding="utf-8")
        raise_for_failure(materialize_study(study, db=tmp_path / "source.duckdb"))
        paid = fake.completions
    assert paid >= 2 * 3 * 4 * 2
    bundle = tmp_path / "bundle"
    assert main(["export", "replayed", "--out", str(bundle), "--with-cache", "--db", str(tmp_path / "source.duckdb")]
                ) == 0
    monkeypatch.delenv("BACKFIRE_REPLAY_KEY")  # the second lab has no key, and the endpoint is down
    capsys.readouterr()
    assert main(["reproduce", str(bundle), "--work", str(tmp_path / "again")]) == 0
    out = capsys.readouterr().out
    replayed = re.search(r"model calls made: 0; (\d+) replies replayed from the cache", out)
    assert replayed and int(replayed.group(1)) == paid, out
    assert "reproduced marts: all" in out and "equal to the bundle's" in out
