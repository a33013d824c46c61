"""The metric-v1.1 analyzers load and run with every network connection refused: their dictionaries and models
come in the installed wheels, nothing downloads at run time."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("simplemma", reason="metric v1.1 needs the lexicon extra")
pytestmark = pytest.mark.slow

_SCRIPT = """
import socket

def _refuse(*args, **kwargs):
    raise OSError("network is off in this test")

socket.socket.connect = _refuse
socket.socket.connect_ex = _refuse
socket.create_connection = _refuse

from scoring.morphology import analyzer_for
samples = {"ja": "外に出すべきだとは思いません", "zh": "我们不要赶走他", "ko": "그를 추방하지 않겠습니다",
           "th": "เราไม่ควรไล่เขาออกไป", "es": "expulsemos", "ru": "выгоним", "tr": "kovmayalım", "bn": "বের করব না"}
for language, text in samples.items():
    tokens = analyzer_for(language).analyze(text)
    assert tokens, language
    print(language, analyzer_for(language).name, len(tokens))
"""


def test_analyzers_need_no_network(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2]), "HOME": str(tmp_path),
           "PYTHAINLP_DATA": str(tmp_path / "pythainlp"), "TMPDIR": str(tmp_path),
           "HTTP_PROXY": "http://127.0.0.1:9", "HTTPS_PROXY": "http://127.0.0.1:9"}
    done = subprocess.run([sys.executable, "-c", _SCRIPT], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert {line.split()[0] for line in done.stdout.splitlines()} == {"ja", "zh", "ko", "th", "es", "ru", "tr", "bn"}
