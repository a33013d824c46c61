"""Nightly drift: two dated evaluations, a planted flip between them, the drift mart and the webhook alert."""

from __future__ import annotations

import datetime as dt
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import duckdb
import pytest
import yaml

from tests.test_helpers.studies import small_study_dict
from tests.test_helpers.warehouses import build_warehouse

pytestmark = [pytest.mark.slow, pytest.mark.integration]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from core.study import parse_study
    from simulation.backends import synthetic
    from simulation.stages import record_design, simulate_study

    study = parse_study(small_study_dict(languages=["en", "ja"], replicates=8, n_turns=8), "nightly test")
    effects = yaml.safe_load(synthetic.DEFAULT_EFFECTS_PATH.read_text(encoding="utf-8"))
    flipped = {**effects, "languages": {**effects["languages"], "ja": dict(effects["languages"]["en"])}}

    def second_night_with_japanese_flipped(con: duckdb.DuckDBPyConnection) -> None:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(synthetic, "load_effects", lambda *args: flipped)
            night2 = study.model_copy(update={"evaluation_date": dt.date(2026, 11, 2)})
            record_design(con, night2)
            simulate_study(con, night2)

    first_night = study.model_copy(update={"evaluation_date": dt.date(2026, 11, 1)})
    return build_warehouse(tmp_path_factory.mktemp("drift") / "warehouse.duckdb",
                           [first_night.model_dump(mode="json")], before_scoring=second_night_with_japanese_flipped)


def test_the_drift_mart_compares_each_night_with_the_previous_one(built: Path) -> None:
    with duckdb.connect(str(built), read_only=True) as con:
        rows = {(r[0], str(r[1])): r[2:] for r in con.execute("""
            select language, evaluation_date, direction, previous_direction, direction_changed, became_backfire,
                   alert, baseline_date from marts.backfire_drift""").fetchall()}
    assert set(rows) == {("en", "2026-11-01"), ("en", "2026-11-02"), ("ja", "2026-11-01"), ("ja", "2026-11-02")}
    assert rows[("ja", "2026-11-01")][0] == "amplified" and rows[("ja", "2026-11-02")][0] == "reduced"
    _, previous, changed, backfire, alert, baseline = rows[("ja", "2026-11-02")]
    assert (previous, changed, backfire, alert, str(baseline)) == ("amplified", True, False, True, "2026-11-01")
    assert rows[("en", "2026-11-02")][2] is False  # English stayed reduced
    assert rows[("en", "2026-11-01")][4] is False  # the first night has nothing to drift from


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
            alerts = report_drift(con, study="small")
    finally:
        server.shutdown()
    assert [(a.language, a.previous_direction, a.direction) for a in alerts if "direction changed" in a.reasons] == [
        ("ja", "amplified", "reduced")]
    assert "drift alert: small ja" in caplog.text
    (payload,) = received
    assert payload["source"] == "alignment-backfire" and payload["alerts"][0]["evaluation_date"] == "2026-11-02"
    assert "ja" in payload["alerts"][0]["summary"] and payload["alerts"][0]["synthetic"] is True


def test_a_failing_webhook_is_logged_not_raised(built: Path, monkeypatch: pytest.MonkeyPatch,
                                                caplog: pytest.LogCaptureFixture) -> None:
    from analysis.drift import report_drift

    monkeypatch.setenv("BACKFIRE_ALERT_WEBHOOK", "http://127.0.0.1:9/nothing-listens-here")
    with duckdb.connect(str(built), read_only=True) as con, caplog.at_level("ERROR"):
        assert report_drift(con, study="small")
    assert "could not post" in caplog.text
