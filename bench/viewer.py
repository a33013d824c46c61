"""Transcript-viewer speed at the paper's scale: the runs list and a run page, served from a synthetic Study 2
warehouse (16 languages x 5 aligned shares x 15 replicates = 1,200 runs, 360,000 utterances).

Builds that warehouse once through the whole pipeline (as bench/recovery.py does, a few minutes) and caches it
under the temp folder, then serves it with ``backfire view``'s app on 127.0.0.1 and prints the server-side
time of each page (first request, then the median of repeats).

    .venv/bin/python bench/viewer.py [--db PATH] [--repeats 5]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
STUDY = Path(__file__).resolve().parents[1] / "studies" / "study2.yaml"
CACHE = Path(tempfile.gettempdir()) / "backfire-viewer-bench" / "warehouse.duckdb"


def build_warehouse(db: Path) -> None:
    """Study 2 through the whole pipeline into ``db`` (written beside it, then moved: a killed build leaves no
    half warehouse to be reused)."""
    from orchestration.launch import materialize_study, raise_for_failure

    db.parent.mkdir(parents=True, exist_ok=True)
    partial = db.with_name("partial-" + db.name)
    for stale in (partial, partial.with_name(partial.name + ".wal")):
        stale.unlink(missing_ok=True)
    started = time.perf_counter()
    raise_for_failure(materialize_study(STUDY, db=partial, log_level="CRITICAL", ephemeral=True))
    partial.rename(db)
    print(f"built {db} in {time.perf_counter() - started:.0f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, default=CACHE, help=f"warehouse to build or reuse (default {CACHE})")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--build-only", action="store_true", help="build (or find) the warehouse and stop")
    args = parser.parse_args()
    if not args.db.is_file():
        build_warehouse(args.db)
    if args.build_only:
        return
    from bench._viewer_timing import time_pages

    time_pages(args.db, args.repeats)


if __name__ == "__main__":
    main()
