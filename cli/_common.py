"""Arguments and output helpers shared by several verbs."""

from __future__ import annotations

import argparse
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
DEMO_STUDY = REPO_ROOT / "studies" / "demo.yaml"


def add_db_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", metavar="PATH", default=None,
                        help="DuckDB warehouse (default: $BACKFIRE_DB, else ./data/warehouse.duckdb)")


def add_endpoint_arguments(parser: argparse.ArgumentParser) -> None:
    """--base-url and --api-key-env, for every verb that must see the same runs as ``backfire run`` would
    (the endpoint is part of a model's identity, so of its run ids)."""
    parser.add_argument("--base-url", help="OpenAI-compatible endpoint, e.g. http://127.0.0.1:8000/v1")
    parser.add_argument("--api-key-env", help="NAME of the environment variable that holds the API key")


def add_check_endpoints_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--check-endpoints", action="store_true",
                        help="also probe each OpenAI-compatible endpoint once (GET /models): is it up, is the key "
                             "good, does it serve the model")


def comma_list(value: str) -> list[str]:
    items = [v.strip() for v in value.split(",") if v.strip()]
    if not items:
        raise argparse.ArgumentTypeError("expected a comma-separated list such as en,ja")
    return items


def positive_int(value: str) -> int:
    try:
        number = int(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from exc
    if number <= 0:
        raise argparse.ArgumentTypeError(f"{value} must be a positive whole number")
    return number


def share(value: str) -> float:
    """A share in [0, 1], e.g. 0.8."""
    try:
        number = float(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number") from exc
    if not 0.0 <= number <= 1.0:
        raise argparse.ArgumentTypeError(f"{value} must be a share between 0 and 1, e.g. 0.8")
    return number


def add_instance_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--ephemeral", action="store_true",
                        help="run on an in-memory Dagster instance instead of the project's persistent one "
                             "($DAGSTER_HOME, else ./.dagster_home, which `make dev` shows); also "
                             "BACKFIRE_INSTANCE=ephemeral")
