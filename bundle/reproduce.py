"""``backfire reproduce``'s preparation: a scratch folder with the bundle's own study file and packs, and a
new warehouse holding only the bundle's response cache, so the re-run replays every real reply (zero model
calls) or regenerates a synthetic study; the caller runs the pipeline there and diffs the marts."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bundle import layout
from bundle.importer import verify_bundle
from core.errors import BundleError

EDITABLE = (f"{layout.PACKS_DIR}/", layout.STUDY_FILE, f"{layout.CONFIG_DIR}/")
"""Files ``--allow-changes`` lets differ from the manifest: what a researcher edits to ask "what if"."""
NO_KEY = "backfire-reproduce-replays-the-cache"
"""Placeholder key set for an endpoint model whose key variable is unset: a cache miss then fails at the
endpoint (401) instead of being paid for."""


@dataclass(frozen=True)
class Reproduction:
    study_path: Path
    packs_root: Path
    db_path: Path
    changed: list[str] = field(default_factory=list)
    """Bundle files that differ from the manifest (allowed by ``--allow-changes``) and are used as they are."""
    cached_calls: int = 0
    """Responses loaded from the bundle's cache into the new warehouse."""
    placeholder_keys: list[str] = field(default_factory=list)
    """Key variables set to ``NO_KEY`` for the re-run (see ``endpoint_environment``)."""


def prepare_reproduction(root: Path, work: Path, *, allow_changes: bool = False) -> tuple[dict[str, Any],
                                                                                          Reproduction]:
    """Verify the bundle and lay out ``work``: ``study.yaml``, ``packs/``, and ``warehouse.duckdb`` with the
    bundle's response cache.

    Raises:
        BundleError: the bundle fails verification, lacks the packs its runs used, or ``work`` is not empty.
    """
    from warehouse.connection import connect
    from warehouse.schema import ensure_raw_schema

    manifest, changed = verify_bundle(root, allow_changed=EDITABLE if allow_changes else ())
    unbundled = [c["language"] for c in manifest.get("content", []) if not c.get("files_match_runs")]
    if unbundled:
        raise BundleError(f"the bundle lacks the packs its runs used for {', '.join(unbundled)} (they had changed "
                          "before export), so the study cannot be re-run as it was", file=str(root / layout.MANIFEST),
                          field="content", fix="import it instead (`backfire import` rebuilds the marts from its "
                                               "tables), or export again from a checkout with those packs")
    if work.exists() and any(work.iterdir()):
        raise BundleError("the folder for the reproduction is not empty", file=str(work),
                          fix="pass a new folder to --work (a reproduction never reuses one)")
    work.mkdir(parents=True, exist_ok=True)
    study_path = work / layout.STUDY_FILE
    shutil.copyfile(root / layout.STUDY_FILE, study_path)
    packs_root = work / layout.PACKS_DIR
    shutil.copytree(root / layout.PACKS_DIR, packs_root)
    db_path = work / "warehouse.duckdb"
    cached = 0
    cache = root / layout.table_path("raw", layout.CACHE_TABLE)
    with connect(db_path) as con:
        ensure_raw_schema(con)
        if cache.is_file():
            con.execute(f"insert into raw.llm_calls by name select * from read_parquet('{_sql_path(cache)}')")
            cached = int(con.execute("select count(*) from raw.llm_calls").fetchone()[0])  # type: ignore[index]
    return manifest, Reproduction(study_path, packs_root, db_path, changed, cached)


def endpoint_environment(study_path: Path) -> dict[str, str]:
    """Placeholder keys for endpoint models whose key variable is unset (the reply comes from the cache, so
    no key is needed; a miss is refused by the endpoint instead of billed)."""
    config = yaml.safe_load(study_path.read_text(encoding="utf-8")) or {}
    names = {m.get("api_key_env") for m in config.get("models", []) if m.get("api_key_env")}
    return {name: NO_KEY for name in sorted(names) if not os.environ.get(name)}


def _sql_path(path: Path) -> str:
    return str(path).replace("'", "''")
