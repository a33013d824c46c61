"""``backfire query`` as a shell user pipes it: into ``head``, in every format."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from tests.conftest import REPO_ROOT

# More rows than a pipe buffer holds, so the CLI is still writing when head exits.
SQL = "select range as n, 'utterance ' || range as text from range(200000)"


@pytest.mark.parametrize("fmt", ["table", "csv", "json"])
def test_a_closed_pipe_exits_quietly(fmt: str, tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    duckdb.connect(str(db)).close()
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    cli = subprocess.Popen([sys.executable, "-m", "cli.main", "query", SQL, "--db", str(db), "--format", fmt],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=REPO_ROOT, env=env)
    head = subprocess.Popen(["head", "-n", "1"], stdin=cli.stdout, stdout=subprocess.PIPE)
    assert cli.stdout is not None and cli.stderr is not None
    cli.stdout.close()  # only head reads it now, so head's exit closes the pipe
    first, _ = head.communicate(timeout=60)
    err = cli.stderr.read().decode()
    assert cli.wait(timeout=60) == 0, err
    assert err == ""
    assert first.decode().strip().split(",")[0].split()[0] in {"n", "["}


def test_max_width_and_full(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from cli.main import main

    db = tmp_path / "w.duckdb"
    duckdb.connect(str(db)).close()
    sql = "select repeat('ab ', 50) as text"
    assert main(["query", sql, "--db", str(db)]) == 0
    default = capsys.readouterr().out.splitlines()[2]
    assert default.endswith("…") and len(default) == 60
    assert main(["query", sql, "--db", str(db), "--max-width", "10"]) == 0
    assert capsys.readouterr().out.splitlines()[2] == "ab ab ab …"
    assert main(["query", sql, "--db", str(db), "--full"]) == 0
    assert capsys.readouterr().out.splitlines()[2] == ("ab " * 50).rstrip()
    assert main(["query", sql, "--db", str(db), "--format", "csv", "--max-width", "10"]) == 0
    assert ("ab " * 50) in capsys.readouterr().out  # csv is never cut


@pytest.mark.parametrize(("verb", "argv", "code"), [("query", ["query", "select 1"], 0),
                                                     ("validate", ["validate", "study.yaml"], 141)])
def test_a_closed_pipe_ends_only_reading_verbs_with_success(verb: str, argv: list[str], code: int,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """A verb whose exit code is a verdict (validate, run, check) must not pass because its reader left."""
    from cli.main import main

    def closed(args: object) -> int:
        raise BrokenPipeError

    monkeypatch.setattr(f"cli.{verb}.handle", closed)
    assert main(argv) == code
