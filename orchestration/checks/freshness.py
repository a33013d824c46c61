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

with warnings.catch_warnings():  # "superseded" by the preview API above; not a problem for users to see
    warnings.simplefilter("ignore", category=dg.SupersessionWarning)
    FRESHNESS_CHECKS = dg.build_last_update_freshness_checks(
        assets=NIGHTLY_MARTS,
        lower_bound_delta=dt.timedelta(hours=float(os.environ.get(FRESHNESS_HOURS_ENV, "26"))))
    freshness_sensor = dg.build_sensor_for_freshness_checks(freshness_checks=FRESHNESS_CHECKS,
                                                            name="freshness_checks_sensor")
