"""Export and import of a reproducibility bundle at the paper's scale (synthetic Study 2: 1,200 runs, 360,000
utterances, ~4 million score rows): seconds for each, and the bundle's size and files.

The warehouse is made once by ``bench/recovery.py --db PATH`` (minutes) or any ``backfire run``; this script
only reads it. Import loads the raw tables into an empty warehouse (hash check included); ``--marts`` also
times the dbt rebuild and the row-for-row comparison that ``backfire import`` runs after it.

    .venv/bin/python bench/bundle.py --db /tmp/recovery.duckdb [--study study2] [--marts]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, required=True, help="warehouse holding the study")
    parser.add_argument("--study", default="study2")
    parser.add_argument("--out", type=Path, default=None, help="bundle folder (default: a temporary one)")
    parser.add_argument("--marts", action="store_true", help="also rebuild the marts (dbt) and compare them")
    parser.add_argument("--threads", type=int, default=2, help="DuckDB threads of the export (the budget is 2 cores; "
                                                               "the import uses DuckDB's default, one per core)")
    args = parser.parse_args()

    import os

    import duckdb

    from bundle import compare_marts, export_study, import_bundle, read_manifest
    from bundle.importer import verify_bundle

    folder = Path(tempfile.mkdtemp(prefix="backfire-bundle-bench-"))
    out = args.out or folder / "bundle"
    if out.exists():
        shutil.rmtree(out)
    with duckdb.connect(str(args.db), read_only=True) as con:
        con.execute(f"set threads = {args.threads}")
        started = time.perf_counter()
        manifest = export_study(con, args.study, out)
        exported = time.perf_counter() - started
    started = time.perf_counter()
    verify_bundle(out)
    verified = time.perf_counter() - started
    target = folder / "imported.duckdb"
    started = time.perf_counter()
    result = import_bundle(out, target)
    imported = time.perf_counter() - started
    tables = {f["table"]: f["rows"] for f in manifest["files"] if f.get("table")}
    size = sum(f["bytes"] for f in manifest["files"])
    print(f"study {args.study}: {tables['raw.runs']:,} runs, {tables['raw.utterances']:,} utterances, "
          f"{tables['raw.scores']:,} score rows ({args.threads} DuckDB threads, {os.cpu_count()} cores)")
    print(f"export: {exported:.1f} s (tables, packs, manifest with SHA-256 of every file; no report)")
    print(f"import: {imported:.1f} s (hash check {verified:.1f} s + loading {result.total_added:,} rows "
          "into an empty warehouse)")
    print(f"bundle: {size / 1e6:.1f} MB in {len(manifest['files'])} files at {out}")
    for entry in sorted(manifest["files"], key=lambda f: -f["bytes"])[:12]:
        rows = f"{entry['rows']:>10,} rows" if entry.get("rows") is not None else " " * 15
        print(f"  {entry['bytes'] / 1e6:8.2f} MB {rows}  {entry['path']}")
    if args.marts:
        from orchestration.launch import raise_for_failure, refresh_marts

        started = time.perf_counter()
        raise_for_failure(refresh_marts(db=target, log_level="CRITICAL", ephemeral=True))
        rebuilt = time.perf_counter() - started
        with duckdb.connect(str(target), read_only=True) as con:
            diffs = compare_marts(con, out, read_manifest(out))
        equal = sum(d.equal for d in diffs)
        print(f"marts: rebuilt in {rebuilt:.1f} s; {equal} of {len(diffs)} equal to the bundle's row for row")
        for diff in diffs:
            if not diff.equal:
                print(f"  {diff.describe()}")
    if args.out is None:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
