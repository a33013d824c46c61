"""The report's charts on awkward input: NaN, infinity, one value, long labels; and an empty warehouse."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET

import duckdb
import pytest

from analysis.report.svg import Interval, forest_plot, small_multiples


def _parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)
    assert "nan" not in svg.lower().replace("not estimable", "") and "inf" not in svg.replace("info", "")
    return root


def test_forest_plot_skips_non_finite_values_and_fits_long_labels() -> None:
    label = "ja · PDI 54 · gpt-4o-mini-2024-07-18 · 2026-11-02"
    svg = forest_plot([Interval(label, 1.0, math.nan, math.nan), Interval("b", math.inf, -1.0, 1.0),
                       Interval("c", None, None, None), Interval("d", 0.5, 0.1, 0.9, "amplified", "note")],
                      title="t")
    root = _parse(svg)
    assert float(root.get("width")) >= 20 + 7 * len(label) + 400
    assert "not estimable" in svg  # the infinite and the missing estimate


def test_axes_survive_a_constant_series_and_tiny_differences() -> None:
    _parse(forest_plot([Interval("a", 1e-16, -1e-16, 1e-16)], title="tiny"))
    svg = small_multiples({"en": {"m": [(0.0, 2.0), (1.0, 2.0)]}, "ja": {"m": [(0.0, math.nan), (1.0, 1.0)]}},
                          title="flat", x_label="x", y_label="y")
    _parse(svg)
    assert ">-0<" not in svg
    assert small_multiples({"en": {"m": [(0.0, math.nan)]}}, title="t", x_label="x", y_label="y") == ""


def test_an_empty_or_unbuilt_warehouse_is_a_clear_error() -> None:
    from analysis.report.html import build_report
    from core.errors import WarehouseError

    con = duckdb.connect()
    with pytest.raises(WarehouseError, match="no marts yet"):
        build_report(con, __import__("pathlib").Path("/tmp/never-written"))
    con.execute("create schema marts; create table marts.backfire_by_language (study varchar)")
    with pytest.raises(WarehouseError, match="no study has effect rows"):
        build_report(con, __import__("pathlib").Path("/tmp/never-written"))


def test_a_malformed_webhook_url_is_logged_not_raised(monkeypatch: pytest.MonkeyPatch,
                                                      caplog: pytest.LogCaptureFixture) -> None:
    from analysis import drift

    alert = drift.DriftAlert("s", "ja", "m", "2026-11-02", "2026-11-01", "reduced", "amplified", -0.5, 0.8, 0.1,
                             1.5, ("direction changed",), False)
    monkeypatch.setattr(drift, "drift_alerts", lambda *args, **kwargs: [alert])
    for url in ("hooks.example.com/abc", "http://[::1/x", "http://exa mple.com/\n"):
        monkeypatch.setenv("BACKFIRE_ALERT_WEBHOOK", url)
        with caplog.at_level("ERROR"):
            assert drift.report_drift(None) == [alert]
    assert caplog.text.count("drift alerts") >= 3
