"""Shared fixtures: offline environment, a temporary warehouse, and small synthetic studies."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).parent / "fixtures"

# Offline hygiene for everything these tests start, including dbt and Dagster subprocesses.
os.environ.update({
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
    "DAGSTER_TELEMETRY_DISABLED": "1",
    "GX_ANALYTICS_ENABLED": "False",
})
os.environ.pop("DAGSTER_HOME", None)
os.environ.pop("BACKFIRE_DB", None)
os.environ.pop("BACKFIRE_STUDY", None)
os.environ.pop("BACKFIRE_PACK_PATH", None)


@pytest.fixture
def db_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A warehouse path of the test's own; BACKFIRE_DB points at it."""
    path = tmp_path / "warehouse.duckdb"
    monkeypatch.setenv("BACKFIRE_DB", str(path))
    return path


@pytest.fixture
def write_study(tmp_path: Path):
    """Write a study YAML from a dict (or raw text) and return its path."""
    import yaml

    def _write(content: dict | str, name: str = "study.yaml") -> Path:
        path = tmp_path / name
        path.write_text(content if isinstance(content, str) else yaml.safe_dump(content, allow_unicode=True),
                        encoding="utf-8")
        return path

    return _write


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Tiny random-weight scorer models built locally once per session (no download): plumbing, not content."""
    pytest.importorskip("torch")
    pytest.importorskip("sentence_transformers")
    from tests.test_helpers.tiny_models import build_tiny_sentence_transformer, build_tiny_xlmr_classifier

    root = tmp_path_factory.mktemp("tiny_scorer_models")
    return {
        # coverage stated in config.json: English only, so Japanese must be abstained on
        "classifier": build_tiny_xlmr_classifier(root / "toxicity", ["non-toxic", "toxic"], ["en"]),
        "nli": build_tiny_xlmr_classifier(root / "nli", ["entailment", "neutral", "contradiction"], ["en", "ja"]),
        "embedding": build_tiny_sentence_transformer(root / "embedder", ["en"]),
        "unlabelled": build_tiny_xlmr_classifier(root / "unlabelled", ["LABEL_0", "LABEL_1"]),
    }


@pytest.fixture(scope="session")
def short_context_models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Tiny XLM-R scorer models with 130 positions (128 tokens) whose tokenizers state no limit: what crashed
    a 256-token truncation. Built once per session, only by the tests that ask."""
    pytest.importorskip("torch")
    pytest.importorskip("sentence_transformers")
    from tests.test_helpers.tiny_models import build_tiny_sentence_transformer, build_tiny_xlmr_classifier

    root = tmp_path_factory.mktemp("short_context_models")
    return {
        "classifier": build_tiny_xlmr_classifier(root / "toxicity", ["non-toxic", "toxic"], ["en"],
                                                 max_positions=130),
        "nli": build_tiny_xlmr_classifier(root / "nli", ["entailment", "neutral", "contradiction"], ["en"],
                                          max_positions=130),
        # no max_seq_length saved: sentence-transformers derives 130 (the positions) on load
        "embedding": build_tiny_sentence_transformer(root / "embedder", ["en"], max_positions=130,
                                                     max_seq_length=None),
    }
