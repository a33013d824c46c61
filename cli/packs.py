"""``backfire packs compare A B``: two language packs side by side against the master protocol, item by item."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("packs", help="inspect language packs against the master protocol")
    verbs = parser.add_subparsers(dest="packs_command", required=True, metavar="SUBCOMMAND")
    compare = verbs.add_parser(
        "compare", help="print, item by item, the master's required elements, both texts, their length ratio, "
                        "and each pack's back-translation and element coverage (equivalence.yaml)")
    compare.add_argument("a", metavar="A", help="language code of the first pack, e.g. en")
    compare.add_argument("b", metavar="B", help="language code of the second pack, e.g. ja")
    compare.add_argument("--html", metavar="PATH", type=Path,
                         help="also write the comparison as a self-contained HTML page")
    compare.set_defaults(handler=handle_compare)
    export = verbs.add_parser(
        "export", help="print one pack's text of every master item and its personas, and nothing else: the "
                       "input of an independent back-translation")
    export.add_argument("language", metavar="LANG", help="language code, e.g. ja")
    export.set_defaults(handler=handle_export)


def handle_export(args: argparse.Namespace) -> int:
    from simulation.protocol.compare import export_items

    print(export_items(args.language), end="")
    return 0


def handle_compare(args: argparse.Namespace) -> int:
    from core.errors import BackfireError
    from simulation.protocol.compare import compare_packs, render_html, render_text

    comparison = compare_packs(args.a, args.b)
    print(render_text(comparison), end="")
    if args.html:
        try:
            args.html.parent.mkdir(parents=True, exist_ok=True)
            args.html.write_text(render_html(comparison), encoding="utf-8")
        except OSError as exc:
            raise BackfireError(f"cannot write the page ({exc.strerror})", file=str(args.html),
                                fix="choose a writable path for --html") from exc
        print(f"wrote {args.html}")
    return 0
