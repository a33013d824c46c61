"""A bug inside a pipeline run: one line on stderr, exit 3, the traceback in the log file the line names."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest

from cli.main import main
from tests.test_helpers.faulty_backend import FaultyBackend, faulty_study_dict, registered_faulty_backend

pytestmark = [pytest.mark.slow, pytest.mark.integration]


def test_a_bug_in_a_backend_prints_one_line_and_exits_3(tmp_path: Path, write_study,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    path = write_study(faulty_study_dict(n_turns=3, n_agents=4))
    db = tmp_path / "w.duckdb"
    backend = FaultyBackend(fail_on_call=4 + 3)

    with registered_faulty_backend(backend):
        code = main(["run", str(path), "--db", str(db)])

    err = capsys.readouterr().err
    assert code == 3
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, err
    line = lines[0]
    assert line.startswith("error: internal error (a bug, not an endpoint failure): TypeError: unsupported operand")
    assert "in backend 'faulty' (model faulty-chat)" in line and "nothing was stored for the failed turn" in line
    log_path = Path(re.search(r"traceback in (\S+)$", line).group(1))  # type: ignore[union-attr]
    log = log_path.read_text(encoding="utf-8")
    assert "TypeError: unsupported operand" in log and "faulty_backend.py" in log and "in generate" in log
    with duckdb.connect(str(db), read_only=True) as con:
        stored = con.execute("select turn, count(*) filter (status = 'error') from raw.utterances "
                             "group by 1 order by 1").fetchall()
    assert stored == [(1, 0)] and len(backend.calls) == 2 * 4
