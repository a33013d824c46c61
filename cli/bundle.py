"""``backfire export | import | reproduce``: a study as a reproducibility bundle, loaded into another
warehouse (marts rebuilt and checked against the bundle's), or re-run from its own study file and packs."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from cli._common import add_db_argument, add_instance_argument

DEFAULT_VIEWER_RUNS = 100
"""A paper-scale study has 1,200 runs; a static page per run for all of them would outweigh the data."""


def non_negative_int(value: str) -> int:
    if not value.isdigit():
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number >= 0")
    return int(value)

if TYPE_CHECKING:
    import duckdb

    from bundle.compare import MartDiff


def register(sub: argparse._SubParsersAction) -> None:
    export = sub.add_parser(
        "export", help="write a study's reproducibility bundle: Parquet tables, study, packs, manifest, report",
        description="Write DIR with data/<schema>_<table>/*.parquet (the study's raw tables and mart rows; they "
                    "load with pandas, DuckDB and Hugging Face datasets), study.yaml, the packs and lexicons used, "
                    "the scorer configs, manifest.json (versions, provenance, SHA-256 of every file), "
                    "datapackage.json, a README and the HTML report.")
    export.add_argument("study", help="name of the study in the warehouse (raw.studies.study)")
    export.add_argument("--out", required=True, metavar="DIR", help="bundle folder (new or empty)")
    export.add_argument("--with-cache", action="store_true",
                        help="add the response cache (raw.llm_calls) so the study replays with zero model calls")
    export.add_argument("--no-text", action="store_true",
                        help="drop talk and monologue text (scores are kept: the marts still rebuild)")
    export.add_argument("--viewer-runs", type=non_negative_int, default=DEFAULT_VIEWER_RUNS, metavar="N",
                        help="runs in the bundle's static transcript viewer (viewer/index.html, spread over the "
                             f"languages; default {DEFAULT_VIEWER_RUNS}, 0 for none; never with --no-text)")
    add_db_argument(export)
    export.set_defaults(handler=handle_export)

    load = sub.add_parser(
        "import", help="check a bundle's hashes, load it into a warehouse and rebuild the marts",
        description="Refuses a tampered or incomplete bundle (naming the file), a bundle of a newer layout, or "
                    "a study name the warehouse holds with another configuration; nothing is written then. "
                    "Loading is idempotent (a second import adds nothing). The rebuilt marts are compared "
                    "with the bundle's, row for row.")
    load.add_argument("bundle", metavar="DIR", help="bundle folder written by `backfire export`")
    add_db_argument(load)
    add_instance_argument(load)
    load.set_defaults(handler=handle_import)

    again = sub.add_parser(
        "reproduce", help="re-run a bundled study from its own study file and packs and diff the marts",
        description="Plays the study again into a new warehouse from the bundle's study.yaml and packs/, "
                    "replaying replies from the bundled cache (zero model calls) or regenerating a synthetic "
                    "study, then diffs every mart with the bundle's. Exit 0: identical; 1: the marts differ.")
    again.add_argument("bundle", metavar="DIR", help="bundle folder written by `backfire export`")
    again.add_argument("--work", metavar="DIR", default=None,
                       help="new folder for the reproduced warehouse (default: a temporary folder, printed)")
    again.add_argument("--allow-changes", action="store_true",
                       help="use study.yaml, packs/ and config/ even where they differ from the manifest (to see "
                            "what an edited lexicon changes); the data files must still match")
    add_instance_argument(again)
    again.set_defaults(handler=handle_reproduce)


def handle_export(args: argparse.Namespace) -> int:
    import time

    from analysis.report.html import bundle_report_writer
    from bundle import ExportOptions, export_study
    from bundle.importer import manifest_summary
    from warehouse.connection import connect, resolve_db_path

    started = time.perf_counter()
    out = Path(args.out)
    db_path = resolve_db_path(args.db)
    options = ExportOptions(with_cache=args.with_cache, include_text=not args.no_text)
    report = bundle_report_writer(args.study, str(db_path))
    viewer = None
    if args.viewer_runs and options.include_text:  # the viewer shows the text --no-text leaves out

        def viewer(con: duckdb.DuckDBPyConnection, folder: Path) -> None:
            from viewer.export import export_bundle as export_viewer

            export_viewer(con, folder, study=args.study, max_runs=args.viewer_runs)

    with connect(db_path, read_only=True) as con:
        manifest = export_study(con, args.study, out, options, source=str(db_path), report_writer=report,
                                viewer_writer=viewer)
    summary = manifest_summary(manifest)
    missing = [c["language"] for c in manifest["content"] if not c["files_match_runs"]]
    print(f"bundle of study {args.study}: {summary['runs']:,} runs, {summary['utterances']:,} utterances, "
          f"{summary['scores']:,} scores, {summary['mart_tables']} mart tables; {summary['files']} files, "
          f"{summary['bytes'] / 1e6:.1f} MB in {time.perf_counter() - started:.1f} s")
    if missing:
        print(f"warning: the packs of {', '.join(missing)} changed since the study ran and are not bundled: "
              "`backfire import` still rebuilds the marts, `backfire reproduce` cannot re-run those languages")
    print(f"bundle: {out.resolve()}")
    return 0


def handle_import(args: argparse.Namespace) -> int:
    import time

    from bundle import compare_marts, import_bundle
    from orchestration.launch import raise_for_failure, refresh_marts
    from warehouse.connection import connect, resolve_db_path

    started = time.perf_counter()
    db_path = resolve_db_path(args.db)
    result = import_bundle(Path(args.bundle), db_path)
    loaded = time.perf_counter() - started
    print(f"study {result.study}: {result.total_added:,} rows added to {len(result.added)} raw tables in "
          f"{loaded:.1f} s" + (" (already imported: nothing new)" if not result.total_added else ""))
    launch = refresh_marts(db=db_path, log_level="INFO" if args.verbose else "CRITICAL", ephemeral=args.ephemeral)
    raise_for_failure(launch)
    from bundle import read_manifest

    manifest = read_manifest(Path(args.bundle))
    with connect(db_path, read_only=True) as con:
        diffs = compare_marts(con, Path(args.bundle), manifest)
    return _print_diffs(diffs, "marts rebuilt", db_path)


def _print_diffs(diffs: list[MartDiff], what: str, db_path: Path) -> int:
    different = [d for d in diffs if not d.equal]
    if different:
        print(f"{what}: {len(different)} of {len(diffs)} marts differ from the bundle's:")
        for diff in different:
            print(f"  {diff.describe()}")
    else:
        print(f"{what}: all {len(diffs)} marts equal to the bundle's, row for row (floats to 1e-12)")
    print(f"warehouse: {db_path}")
    return 1 if different else 0


def handle_reproduce(args: argparse.Namespace) -> int:
    import os
    import tempfile

    from bundle import compare_marts
    from bundle.reproduce import endpoint_environment, prepare_reproduction
    from orchestration.launch import materialize_study, raise_for_failure
    from warehouse.connection import connect

    work = Path(args.work) if args.work else Path(tempfile.mkdtemp(prefix="backfire-reproduce-"))
    root = Path(args.bundle)
    manifest, plan = prepare_reproduction(root, work, allow_changes=args.allow_changes)
    for path in plan.changed:
        print(f"changed since export (used as it is now): {path}")
    print(f"reproducing study {manifest['study']} in {work} "
          + (f"({plan.cached_calls:,} cached replies)" if plan.cached_calls else "(no cache bundled)"))
    saved = {name: os.environ.get(name) for name in ("BACKFIRE_PACK_PATH", *endpoint_environment(plan.study_path))}
    try:
        os.environ["BACKFIRE_PACK_PATH"] = str(plan.packs_root)  # the bundle's packs, before any other root
        os.environ.update(endpoint_environment(plan.study_path))
        result = materialize_study(plan.study_path, db=plan.db_path, ephemeral=args.ephemeral,
                                   log_level="INFO" if args.verbose else "CRITICAL")
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    raise_for_failure(result)
    simulated = result.materializations.get("raw/utterances", [])
    replayed = sum(int(m.get("cache_hits", 0)) for m in simulated)
    made = sum(int(m.get("calls", 0)) for m in simulated) - replayed
    synthetic = all(m.get("synthetic", False) for m in manifest.get("models", []))
    print(f"model calls made: {made}" + (" (synthetic backend: generated, no endpoint)" if synthetic and made else "")
          + f"; {replayed} replies replayed from the cache")
    with connect(plan.db_path, read_only=True) as con:
        diffs = compare_marts(con, root, manifest, by_design=True)
    return _print_diffs(diffs, "reproduced marts", plan.db_path)
