"""Shared fixtures: offline environment, environment isolation, zero retry backoff, a temporary warehouse,
small synthetic studies, tiny local models, the demo run shared by the tests that read it, and a dbt artifact
folder per pytest-xdist worker."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.test_helpers.env import preserved_environ

REPO_ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).parent / "fixtures"
DEMO_STUDY = REPO_ROOT / "studies" / "demo.yaml"

# Offline hygiene for everything these tests start, including dbt and Dagster subprocesses.
os.environ.update({
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
    "DAGSTER_TELEMETRY_DISABLED": "1",
    "GX_ANALYTICS_ENABLED": "False",
    # Dagster runs of the CLI go to an ephemeral instance, never to a persistent ./.dagster_home.
    "BACKFIRE_INSTANCE": "ephemeral",
    # Studies play their languages in turn in the test's process: two xdist workers already fill two cores, and
    # side-by-side worker processes (and their forkserver start-up) only add load. The tests of side-by-side
    # languages say so: ``--parallel N`` (resume after a kill) or the demo, which runs as a user runs it.
    "BACKFIRE_PARALLEL": "1",
    # The dbt unit tests check SQL against fixed rows, whatever the warehouse: tests/dbt/test_dbt_build.py runs
    # every one of them (and unsets this); the other pipeline runs of the suite need not repeat them.
    "DBT_EXCLUDE_RESOURCE_TYPES": "unit_test",
})
for _name in ("DAGSTER_HOME", "BACKFIRE_DB", "BACKFIRE_STUDY", "BACKFIRE_PACK_PATH", "DBT_INDIRECT_SELECTION",
              "DBT_TARGET_PATH", "DBT_LOG_PATH", "BACKFIRE_PERMITS_URL"):
    os.environ.pop(_name, None)


def pytest_configure(config: pytest.Config) -> None:
    """With xdist, parse the dbt project once on the controller before the workers start, so no two workers
    write models_dbt/target/manifest.json at once (dagster-dbt loads it when the definitions are imported)."""
    if not hasattr(config, "workerinput") and getattr(config.option, "numprocesses", None):
        from orchestration.dbt.project import ensure_manifest

        ensure_manifest()


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """``--dist loadgroup`` on pytest 9.2: xdist 3.8 tags a grouped test by appending ``@group`` to
    ``item._nodeid``, which pytest 9.2 no longer reads (pytest-dev/pytest-xdist#1386), so groups were split
    across workers and each built its own session warehouse. Put the tag where the node id now lives; a no-op
    where xdist's own tag took effect. Remove once xdist's fix (pytest-dev/pytest-xdist#1388) is released."""
    if not getattr(config.option, "loadgroup", False):
        return
    from _pytest.nodeid import NodeId

    for item in items:
        marks = item.iter_markers("xdist_group")
        groups = {str(mark.args[0] if mark.args else mark.kwargs.get("name", "default")) for mark in marks}
        suffix = "@" + "_".join(sorted(groups))
        if groups and not item.nodeid.endswith(suffix) and hasattr(item, "_id"):
            item._id = NodeId.parse(item.nodeid + suffix)


@pytest.fixture(scope="session", autouse=True)
def dbt_artifacts_per_worker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Under xdist, each worker's dbt writes run_results.json, partial_parse.msgpack and logs into folders of its
    own: ``run_dbt`` and dagster-dbt both honour DBT_TARGET_PATH and DBT_LOG_PATH. The manifest stays in
    models_dbt/target (``ensure_manifest`` writes it there, once, from ``pytest_configure``)."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker is None:
        yield
        return
    root = tmp_path_factory.getbasetemp() / f"dbt-{worker}"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DBT_TARGET_PATH", str(root / "target"))
        patch.setenv("DBT_LOG_PATH", str(root / "logs"))
        yield


@pytest.fixture(autouse=True)
def isolated_environ() -> Iterator[None]:
    """Whatever a test or the pipeline it runs exports (BACKFIRE_DB, DBT_INDIRECT_SELECTION), the next test
    starts from the same environment. Tests set variables with ``monkeypatch.setenv``."""
    with preserved_environ():
        yield


@pytest.fixture(autouse=True)
def fast_retry_waits(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Retries back off without waiting; a test marked ``real_retry_wait`` keeps the real backoff."""
    if request.node.get_closest_marker("real_retry_wait") is None:
        monkeypatch.setattr("simulation.backends.retry.BASE_DELAY_S", 0.0)


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


@dataclass(frozen=True)
class DemoRun:
    """What ``backfire demo`` left: its exit code and output, the warehouse, and the Dagster home it used."""

    exit_code: int
    stdout: str
    stderr: str
    db_path: Path
    dagster_home: Path

    @property
    def success(self) -> bool:
        return self.exit_code == 0

    @property
    def failures(self) -> str:
        return self.stderr


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> DemoRun:
    """``backfire demo`` run once, as a user runs it: through the CLI on the project's persistent Dagster
    instance (a scratch ``DAGSTER_HOME``), so the tests can check what the UI will show, with its languages side
    by side in worker processes (the default; the session's ``BACKFIRE_PARALLEL=1`` holds for other tests).
    Session fixtures live per xdist worker: the tests that use it share ``xdist_group("demo")``. Read only: a test
    that writes works on ``copy_warehouse(demo_run.db_path, tmp_path)``."""
    import contextlib
    import io

    from cli.main import main

    folder = tmp_path_factory.mktemp("demo")
    db, home = folder / "demo.duckdb", folder / "dagster_home"
    out, err = io.StringIO(), io.StringIO()
    with preserved_environ():
        os.environ["DAGSTER_HOME"] = str(home)
        os.environ.pop("BACKFIRE_INSTANCE", None)  # the CLI's default: persistent
        os.environ.pop("BACKFIRE_PARALLEL", None)  # the default: languages side by side in worker processes
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(["demo", "--db", str(db)])
    return DemoRun(code, out.getvalue(), err.getvalue(), db, home)


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
def tiny_llama(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny random-weight chat Llama for the transformers backend, built once per session (no download)."""
    pytest.importorskip("transformers")
    from tests.test_helpers.tiny_models import build_tiny_llama

    return build_tiny_llama(tmp_path_factory.mktemp("models") / "tiny-llama")


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
