"""Entry point: parse the verb, run it, print user errors without a traceback.

Exit codes: 0 success, 2 a user error (``BackfireError``: bad input, a failed contract, a spent budget...),
3 an internal error (a bug inside a pipeline run; its traceback is in the log file the line names),
130 interrupted. A closed stdout (``| head``) ends a reading verb quietly with 0, any other with 141 (the
shell's code for SIGPIPE: what it printed was cut short, so its verdict is unknown). A bug outside a pipeline
run keeps Python's traceback (exit 1).
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

import cli.bundle as bundle_verbs  # export, import, reproduce
from cli import (
    check,
    demo,
    estimate,
    marts,
    packs,
    power,
    query,
    report,
    run,
    score,
    tables,
    transcript,
    validate,
    view,
)
from cli import scorers as scorers_verb

COMMANDS = (validate, estimate, run, demo, score, marts, query, transcript, tables, report, power, check, packs,
            scorers_verb, view, bundle_verbs)
READING_VERBS = frozenset({"query", "transcript", "tables", "power", "packs"})
"""Verbs whose exit code carries no verdict: a reader that stops early (``| head``) got what it asked for."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="backfire",
        description="Measure whether alignment instructions reduce or amplify collective pathology in groups "
                    "of LLM agents, per language and model.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log at INFO (stages, calls)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        command.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    level = logging.INFO if args.verbose else logging.WARNING
    logging.basicConfig(level=level, format="%(levelname)s %(message)s")
    logging.getLogger("dagster").setLevel(level)
    # Libraries log through get_dagster_logger(), whose "dagster.builtin" logger sets its own DEBUG level.
    logging.getLogger("dagster.builtin").setLevel(level)
    from core.errors import BackfireError, InternalError

    try:
        code = int(args.handler(args) or 0)
        sys.stdout.flush()  # a closed pipe raises here, inside the handler below, not at interpreter exit
        return code
    except BrokenPipeError:
        _stdout_closed()
        return 0 if args.command in READING_VERBS else 141
    except BackfireError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except InternalError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 3
    except KeyboardInterrupt:
        print("interrupted: finished turns are stored; rerun the same command to resume", file=sys.stderr)
        return 130


def _stdout_closed() -> None:
    """The reader went away (``backfire query ... | head``): stdout now points at /dev/null, so the
    interpreter's last flush does not print an ignored-exception warning."""
    import os

    try:
        fileno = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):  # a captured, in-memory stdout
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, fileno)
    os.close(devnull)


if __name__ == "__main__":
    sys.exit(main())
