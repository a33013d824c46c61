"""Freshness of the marts a nightly deployment depends on: a warning when they were not rebuilt for a day.

Off by default like the schedule (switch ``freshness_checks_sensor`` on together with the nightly schedule).
Why checks and not Dagster 1.12's ``FreshnessPolicy``: the policies are a preview that needs
``freshness: enabled`` in dagster.yaml and may change; the checks work on every instance today.
"""

import datetime as dt
import os
import warnings

import dagster as dg

FRESHNESS_HOURS_ENV = "BACKFIRE_FRESHNESS_HOURS"
NIGHTLY_MARTS = [dg.AssetKey(["marts", name]) for name in (
    "backfire_by_language", "dissociation_by_language", "backfire_drift", "replication_scorecard")]

def freshness_hours() -> float:
    """``BACKFIRE_FRESHNESS_HOURS``, or 26 when unset or not a positive number (a typo must not stop the
    definitions from loading)."""
    value = os.environ.get(FRESHNESS_HOURS_ENV, "26")
    try:
        hours = float(value)
    except ValueError:
        hours = 0.0
    if not hours > 0:
        warnings.warn(f"{FRESHNESS_HOURS_ENV}={value!r} is not a positive number of hours; using 26", stacklevel=2)
        return 26.0
    return hours


with warnings.catch_warnings():  # "superseded" by the preview API above; not a problem for users to see
    warnings.simplefilter("ignore", category=dg.SupersessionWarning)
    FRESHNESS_CHECKS = dg.build_last_update_freshness_checks(
        assets=NIGHTLY_MARTS,
        lower_bound_delta=dt.timedelta(hours=freshness_hours()))
    freshness_sensor = dg.build_sensor_for_freshness_checks(freshness_checks=FRESHNESS_CHECKS,
                                                            name="freshness_checks_sensor")
