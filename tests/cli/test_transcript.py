"""``backfire transcript``: a run's turns on a small synthetic warehouse (ja and th: wide and zero-width
characters), read-only."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import duckdb
import pytest

from analysis.display import cells, wrap
from cli.main import main
from simulation.content import load_language
from simulation.prompts import fill_target
from tests.test_helpers.studies import fill_warehouse


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("transcript") / "w.duckdb"
    with duckdb.connect(str(path)) as con:
        fill_warehouse(con, languages=["ja", "th"], aligned_shares=[0.5], replicates=1, n_agents=4, n_turns=3,
                       probe_turns=[2])
    return path


def _run(db: Path, language: str) -> str:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute("select run_id from raw.runs where language = ?", [language]).fetchone()[0]  # type: ignore[index]


def _talk(db: Path, run_id: str, turn: int, agent: int, channel: str) -> str:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute("select text from raw.utterances where run_id = ? and turn = ? and agent_idx = ? and "
                           "channel = ?", [run_id, turn, agent, channel]).fetchone()[0]  # type: ignore[index]


def test_talk_beside_monologue_with_the_event_and_the_agents(warehouse: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    run_id = _run(warehouse, "ja")
    assert main(["transcript", run_id[:6], "--turn", "2", "--width", "100", "--db", str(warehouse)]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert all(cells(line) <= 100 for line in lines)
    pack = load_language("ja").pack
    event = fill_target(pack.scenario.events[1].text, pack.scenario.target_name)
    first = next(i for i, line in enumerate(lines) if line.startswith("event: "))
    event_lines = lines[first:lines.index("", first)]
    assert "".join(line[7:] for line in event_lines) == event and "{target}" not in out
    with duckdb.connect(str(warehouse), read_only=True) as con:
        agents = con.execute("select agent_idx, persona_id, aligned from raw.agents where run_id = ? order by 1",
                             [run_id]).fetchall()
    names = {p.id: p.name for p in pack.personas}
    for idx, persona, aligned in agents:
        assert f"#{idx} {names[persona]} · {'aligned' if aligned else 'not aligned'}" in out
    # agent 0's block: its talk down the left column, its monologue down the right, both whole
    start = lines.index(next(line for line in lines if line.startswith("#0 "))) + 2
    block = []
    for line in lines[start:]:
        if " │ " not in line and not line.rstrip().endswith("│"):
            break
        block.append(line)
    left = "".join(line.split("│")[0].strip() for line in block)
    right = "".join(line.split("│", 1)[1].strip() for line in block)
    assert left == _talk(warehouse, run_id, 2, 0, "talk")
    assert right == _talk(warehouse, run_id, 2, 0, "monologue")
    assert "probe:" in out  # turn 2 is a probe turn
    assert len({cells(line.split("│")[0]) for line in block}) == 1  # the divider lines up in display cells


def test_narrow_terminals_stack_the_channels_and_one_agent_can_be_picked(warehouse: Path,
                                                                        capsys: pytest.CaptureFixture[str]) -> None:
    run_id = _run(warehouse, "th")
    assert main(["transcript", run_id, "--agent", "1", "--width", "60", "--db", str(warehouse)]) == 0
    out = capsys.readouterr().out
    assert "    talk:" in out and "    monologue:" in out and "│" not in out
    assert out.count("\n#") == 3 and "#1 " in out and "#0 " not in out  # agent 1, in each of the 3 turns
    assert all(cells(line) <= 60 for line in out.splitlines())


def test_statuses_other_than_ok_show_with_their_error(warehouse: Path, tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "w.duckdb"
    shutil.copy(warehouse, db)
    run_id = _run(db, "ja")
    with duckdb.connect(str(db)) as con:
        con.execute("update raw.utterances set status = 'error', text = '', error = 'connection refused at "
                    "127.0.0.1:9' where run_id = ? and turn = 1 and agent_idx = 0", [run_id])
        con.execute("update raw.utterances set status = 'parse_error' where run_id = ? and turn = 1 and "
                    "agent_idx = 1", [run_id])
    assert main(["transcript", run_id, "--turn", "1", "--db", str(db)]) == 0
    out = capsys.readouterr().out
    assert "· [error: connection refused at 127.0.0.1:9]" in out and "(empty)" in out
    assert "· [parse_error]" in out


def test_an_unknown_run_says_how_to_list_runs_and_nothing_is_written(warehouse: Path,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    before = hashlib.sha256(warehouse.read_bytes()).hexdigest()
    assert main(["transcript", "nosuchrun", "--db", str(warehouse)]) == 2
    err = capsys.readouterr().err
    assert "no run 'nosuchrun'" in err and 'backfire query "select run_id' in err and "Traceback" not in err
    assert main(["transcript", _run(warehouse, "ja"), "--turn", "9", "--db", str(warehouse)]) == 2
    assert "--turn between 1 and 3" in capsys.readouterr().err
    assert hashlib.sha256(warehouse.read_bytes()).hexdigest() == before


def test_wrapping_counts_cells_and_keeps_marks_with_their_letters() -> None:
    thai = "ผู้ใหญ่บ้านที่นี่ไม่ยอมให้ใครออกไปข้างนอกเลยสักคนเดียว"
    japanese = "夜のあいだ誰も施設を出られないと放送があった。皆で待つことにした。"
    for text in (thai, japanese):
        lines = wrap(text, 12)
        assert "".join(lines) == text
        assert all(cells(line) <= 12 for line in lines)
        assert all(cells(line[0]) > 0 for line in lines)  # no line starts with a combining mark
    assert not any(line.startswith(("。", "、")) for line in wrap(japanese, 7))
    assert wrap("the group agrees to wait", 10) == ["the group", "agrees to", "wait"]
