"""Drift alerts: after a dated evaluation, the (language, model) cells whose direction changed or whose effect
left the previous evaluation's CI (``marts.backfire_drift``), logged and, when ``BACKFIRE_ALERT_WEBHOOK`` is
set, posted as JSON. The payload holds results only: no key, no study file, no warehouse path."""

from __future__ import annotations

import datetime as dt
import http.client
import json
import logging
import os
import urllib.request
from dataclasses import asdict, dataclass
from typing import Any

logger = logging.getLogger(__name__)
WEBHOOK_ENV = "BACKFIRE_ALERT_WEBHOOK"


@dataclass(frozen=True)
class DriftAlert:
    study: str
    language: str
    model: str
    evaluation_date: str
    previous_date: str
    direction: str | None
    previous_direction: str | None
    hedges_g: float | None
    previous_g: float | None
    previous_ci_low: float | None
    previous_ci_high: float | None
    reasons: tuple[str, ...]
    synthetic: bool

    def describe(self) -> str:
        g = "-" if self.hedges_g is None else f"{self.hedges_g:+.2f}"
        return (f"{self.study} {self.language} {self.model} {self.evaluation_date}: {self.previous_direction} -> "
                f"{self.direction} (g {g}; {', '.join(self.reasons)})" + (" [synthetic]" if self.synthetic else ""))


def drift_alerts(con: Any, *, study: str | None = None, evaluation_date: str | None = None) -> list[DriftAlert]:
    """Alerts of one evaluation date (default: the latest dated evaluation of each study)."""
    rows = con.execute("""
        select study, language, model, evaluation_date, previous_date, direction, previous_direction, hedges_g,
               previous_g, previous_ci_low, previous_ci_high, direction_changed, left_previous_ci, became_backfire,
               synthetic
        from marts.backfire_drift d
        where alert
          and (? is null or study = ?)
          and evaluation_date = coalesce(?::date, (select max(evaluation_date) from marts.backfire_drift m
                                                   where m.study = d.study))
        order by study, language, model""", [study, study, evaluation_date]).fetchall()
    alerts = []
    for (study_, language, model, date, previous, direction, previous_direction, g, previous_g, low, high, changed,
         left_ci, backfire, synthetic) in rows:
        reasons = tuple(reason for reason, flag in (("became backfire", backfire), ("direction changed", changed),
                                                    ("left the previous CI", left_ci)) if flag)
        alerts.append(DriftAlert(study_, language, model, str(date), str(previous), direction, previous_direction,
                                 g, previous_g, low, high, reasons, bool(synthetic)))
    return alerts


def post_alerts(alerts: list[DriftAlert], url: str, *, timeout_s: float = 10.0) -> int:
    """POST ``{"source", "sent_at", "alerts": [...]}`` to the webhook; returns the HTTP status."""
    payload = {"source": "alignment-backfire", "sent_at": dt.datetime.now(dt.UTC).isoformat(),
               "alerts": [{**asdict(alert), "summary": alert.describe()} for alert in alerts]}
    request = urllib.request.Request(url, data=json.dumps(payload, ensure_ascii=False).encode(),
                                     headers={"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(request, timeout=timeout_s) as response:
        return int(response.status)


def report_drift(con: Any, *, study: str | None = None, evaluation_date: str | None = None) -> list[DriftAlert]:
    """Log every alert at WARNING and post them when the webhook is configured; a failing webhook is logged,
    never raised (the evaluation itself succeeded)."""
    alerts = drift_alerts(con, study=study, evaluation_date=evaluation_date)
    for alert in alerts:
        logger.warning("drift alert: %s", alert.describe())
    url = (os.environ.get(WEBHOOK_ENV) or "").strip()
    if alerts and url:
        if not url.startswith(("http://", "https://")):
            logger.error("%s must be an http(s) URL; %d drift alerts were not posted", WEBHOOK_ENV, len(alerts))
            return alerts
        try:
            status = post_alerts(alerts, url)
            logger.info("posted %d drift alerts to the webhook (HTTP %d)", len(alerts), status)
        except (OSError, ValueError, http.client.HTTPException) as exc:  # unreachable, HTTP error, malformed URL
            logger.error("could not post %d drift alerts to %s: %s", len(alerts), WEBHOOK_ENV, type(exc).__name__)
    return alerts
