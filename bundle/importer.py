"""``import_bundle``: verify every hash of a bundle, then load its raw tables into a new or existing warehouse,
idempotently (rows are keyed by their hashed ids: a second import adds nothing). The marts are rebuilt by the
caller (``orchestration.launch.refresh_marts``), never copied."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bundle import layout
from bundle.manifest import read_manifest, verify_files
from core.errors import BundleError


@dataclass(frozen=True)
class ImportResult:
    study: str
    db_path: Path
    added: dict[str, int] = field(default_factory=dict)
    """Rows added per raw table (0 everywhere on a second import)."""
    bundle_rows: dict[str, int] = field(default_factory=dict)
    """Rows per raw table in the bundle."""

    @property
    def total_added(self) -> int:
        return sum(self.added.values())


def verify_bundle(root: Path, *, allow_changed: tuple[str, ...] = ()) -> tuple[dict[str, Any], list[str]]:
    """The bundle's manifest after every file was checked (see ``verify_files``), and the changed files that
    ``allow_changed`` let through.

    Raises:
        BundleError: missing manifest or file, a hash mismatch, or a newer layout; each names the file and fix.
    """
    manifest = read_manifest(root)
    changed = verify_files(root, manifest, allow_changed=allow_changed)
    if not any(entry.get("table") == "raw.runs" for entry in manifest.get("files", [])):
        raise BundleError("the manifest lists no raw.runs table: the bundle is incomplete",
                          file=str(root / layout.MANIFEST), field="files", fix="export the study again")
    return manifest, changed


def _raw_files(root: Path, manifest: dict[str, Any]) -> list[tuple[str, Path, int]]:
    """(raw table, Parquet path, rows) in load order (parents first)."""
    order = {name: i for i, name in enumerate((*layout.RAW_TABLES, layout.CACHE_TABLE))}
    found = []
    for entry in manifest["files"]:
        table = entry.get("table") or ""
        if table.startswith("raw."):
            name = table.removeprefix("raw.")
            if name not in order:
                raise BundleError(f"lists an unknown raw table {table}", file=str(root / layout.MANIFEST),
                                  field="files", fix="upgrade alignment-backfire to the version that wrote it")
            found.append((name, root / entry["path"], int(entry["rows"])))
    return sorted(found, key=lambda item: order[item[0]])


def _sql_path(path: Path) -> str:
    return str(path).replace("'", "''")


def _check_study_conflict(con: Any, root: Path, manifest: dict[str, Any]) -> None:
    """A warehouse may hold the study already, but only as the same study (same configuration hash)."""
    study = manifest["study"]
    path = _sql_path(root / layout.table_path("raw", "studies"))
    ours = con.execute(f"select config_hash from read_parquet('{path}') where study = ?", [study]).fetchone()
    theirs = con.execute("select config_hash from raw.studies where study = ?", [study]).fetchone()
    if ours and theirs and ours[0] != theirs[0]:
        raise BundleError(f"the warehouse already holds a study named '{study}' with a different configuration "
                          f"(config hash {theirs[0]}, the bundle's {ours[0]})", field="study",
                          fix="import into another warehouse (--db NEW.duckdb), or export the warehouse's own "
                              "study under another name first; nothing was written")


def import_bundle(root: Path, db_path: Path) -> ImportResult:
    """Load the bundle's raw tables into the warehouse at ``db_path`` (created when missing), in one
    transaction: either every table is loaded or nothing is.

    Raises:
        BundleError: the bundle fails verification, or the warehouse holds a different study of that name.
    """
    from warehouse.connection import connect, transaction
    from warehouse.schema import ensure_raw_schema

    manifest, _ = verify_bundle(root)
    files = _raw_files(root, manifest)
    existed = db_path.is_file()
    if existed:  # check before anything is written, so a refused import leaves the warehouse as it was
        with connect(db_path, read_only=True) as con:
            if con.execute("select count(*) from information_schema.tables where table_schema = 'raw' "
                           "and table_name = 'studies'").fetchone()[0]:  # type: ignore[index]
                _check_study_conflict(con, root, manifest)
    added: dict[str, int] = {}
    try:
        with connect(db_path) as con:
            ensure_raw_schema(con)
            with transaction(con):
                for table, path, _rows in files:
                    before = con.execute(f"select count(*) from raw.{table}").fetchone()[0]  # type: ignore[index]
                    source = f"read_parquet('{_sql_path(path)}')"
                    verb = "insert into" if before == 0 else "insert or ignore into"
                    con.execute(f"{verb} raw.{table} by name select * from {source}")
                    added[table] = con.execute(f"select count(*) from raw.{table}").fetchone()[0] - before  # type: ignore[index]
    except BaseException:
        if not existed:
            db_path.unlink(missing_ok=True)
            db_path.with_name(db_path.name + ".wal").unlink(missing_ok=True)
        raise
    return ImportResult(manifest["study"], db_path, added, {table: rows for table, _, rows in files})


def bundle_marts(root: Path, manifest: dict[str, Any]) -> dict[str, Path]:
    """The bundle's mart tables: ``marts.<name>`` -> its Parquet file."""
    return {entry["table"]: root / entry["path"] for entry in manifest["files"]
            if (entry.get("table") or "").startswith("marts.")}


def manifest_summary(manifest: dict[str, Any]) -> dict[str, Any]:
    """A few lines of the manifest for metadata and CLI output."""
    tables = {e["table"]: e["rows"] for e in manifest["files"] if e.get("table")}
    return {"study": manifest["study"], "bundle_schema_version": manifest["bundle_schema_version"],
            "code_version": manifest["code"]["version"], "git_commit": manifest["code"]["git_commit"],
            "runs": tables.get("raw.runs", 0), "utterances": tables.get("raw.utterances", 0),
            "scores": tables.get("raw.scores", 0), "mart_tables": sum(t.startswith("marts.") for t in tables),
            "files": len(manifest["files"]), "bytes": sum(e["bytes"] for e in manifest["files"]),
            "with_cache": manifest["options"]["with_cache"], "text_included": manifest["options"]["text_included"],
            "models": json.dumps([m["model"] for m in manifest.get("models", [])])}
