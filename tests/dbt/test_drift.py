"""Nightly drift: two dated evaluations, a planted flip between them, the drift mart and the webhook alert."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import duckdb
import pytest

from tests.test_helpers.warehouses import DRIFT_NIGHTS, DRIFT_STUDY

pytestmark = [pytest.mark.slow, pytest.mark.integration, pytest.mark.xdist_group("dbt_warehouse")]
FIRST, SECOND = (night.isoformat() for night in DRIFT_NIGHTS)


@pytest.fixture(scope="module")
def built(dbt_warehouse: Path) -> Path:
    """Two dated evaluations of DRIFT_STUDY; on the second night Japanese has English's planted effects."""
    return dbt_warehouse


def test_the_drift_mart_compares_each_night_with_the_previous_one(built: Path) -> None:
    with duckdb.connect(str(built), read_only=True) as con:
        rows = {(r[0], str(r[1])): r[2:] for r in con.execute("""
            select language, evaluation_date, direction, previous_direction, direction_changed, became_backfire,
                   alert, baseline_date from marts.backfire_drift where study = ?""", [DRIFT_STUDY]).fetchall()}
    assert set(rows) == {("en", FIRST), ("en", SECOND), ("ja", FIRST), ("ja", SECOND)}
    assert rows[("ja", FIRST)][0] == "amplified" and rows[("ja", SECOND)][0] == "reduced"
    _, previous, changed, backfire, alert, baseline = rows[("ja", SECOND)]
    assert (previous, changed, backfire, alert, str(baseline)) == ("amplified", True, False, True, FIRST)
    assert rows[("en", SECOND)][2] is False  # English stayed reduced
    assert rows[("en", FIRST)][4] is False  # the first night has nothing to drift from


def test_alerts_are_logged_and_posted_to_the_webhook(built: Path, monkeypatch: pytest.MonkeyPatch,
                                                      caplog: pytest.LogCaptureFixture) -> None:
    from analysis.drift import report_drift

    received: list[dict[str, Any]] = []

    class Hook(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(204)
            self.end_headers()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("BACKFIRE_ALERT_WEBHOOK", f"http://127.0.0.1:{server.server_address[1]}/hook")
    try:
        with duckdb.connect(str(built), read_only=True) as con, caplog.at_level("WARNING"):
            alerts = report_drift(con, study=DRIFT_STUDY)
    finally:
        server.shutdown()
    assert [(a.language, a.previous_direction, a.direction) for a in alerts if "direction changed" in a.reasons] == [
        ("ja", "amplified", "reduced")]
    assert f"drift alert: {DRIFT_STUDY} ja" in caplog.text
    (payload,) = received
    assert payload["source"] == "alignment-backfire" and payload["alerts"][0]["evaluation_date"] == SECOND
    assert "ja" in payload["alerts"][0]["summary"] and payload["alerts"][0]["synthetic"] is True


def test_a_failing_webhook_is_logged_not_raised(built: Path, monkeypatch: pytest.MonkeyPatch,
                                                caplog: pytest.LogCaptureFixture) -> None:
    from analysis.drift import report_drift

    monkeypatch.setenv("BACKFIRE_ALERT_WEBHOOK", "http://127.0.0.1:9/nothing-listens-here")
    with duckdb.connect(str(built), read_only=True) as con, caplog.at_level("ERROR"):
        assert report_drift(con, study=DRIFT_STUDY)
    assert "could not post" in caplog.text
