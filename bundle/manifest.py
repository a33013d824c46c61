"""The bundle's manifest: what produced the tables (code, packages, models, packs, metric spec) and the size
and SHA-256 of every file, so that a second lab can check a bundle before trusting it."""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib.metadata
import json
import platform
import subprocess
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from bundle.layout import BUNDLE_SCHEMA_VERSION, MANIFEST
from core.errors import BundleError

REPO_ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("alignment-backfire", "duckdb", "dbt-core", "dbt-duckdb", "dagster", "dagster-dbt", "pandas", "numpy",
            "scipy", "statsmodels", "pydantic", "pyyaml", "pyahocorasick", "py3langid", "pyarrow", "transformers",
            "sentence-transformers", "torch", "openai")
"""Packages whose versions can change a table; a missing one is recorded as null."""
_CHUNK = 1 << 20


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def file_entry(root: Path, relative: str, *, rows: int | None = None, table: str | None = None) -> dict[str, Any]:
    """One ``files`` entry: path, bytes, SHA-256 and, for a table, its name and row count."""
    path = root / relative
    entry: dict[str, Any] = {"path": relative, "bytes": path.stat().st_size, "sha256": sha256_file(path)}
    if table is not None:
        entry.update(table=table, rows=rows)
    return entry


def package_versions(names: Iterable[str] = PACKAGES) -> dict[str, str | None]:
    versions: dict[str, str | None] = {}
    for name in names:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def _git(*args: str) -> str | None:
    try:
        done = subprocess.run(["git", "-C", str(REPO_ROOT), *args], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def code_version() -> dict[str, Any]:
    """The git commit and whether the checkout had uncommitted changes, when this is a git checkout; the
    package version always (the only version an installed wheel has)."""
    commit = _git("rev-parse", "HEAD")
    status = _git("status", "--porcelain", "--untracked-files=no") if commit else None
    return {"package": "alignment-backfire", "version": package_versions(["alignment-backfire"])["alignment-backfire"]
            or _pyproject_version(), "git_commit": commit, "git_dirty": None if status is None else bool(status)}


def _pyproject_version() -> str | None:
    pyproject = REPO_ROOT / "pyproject.toml"
    if not pyproject.is_file():
        return None
    import tomllib

    return tomllib.loads(pyproject.read_text(encoding="utf-8")).get("project", {}).get("version")


def environment() -> dict[str, Any]:
    return {"python": platform.python_version(), "implementation": platform.python_implementation(),
            "platform": platform.platform(), "machine": platform.machine()}


def now_utc() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def write_manifest(root: Path, manifest: dict[str, Any]) -> Path:
    path = root / MANIFEST
    path.write_text(json.dumps(manifest, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8")
    return path


def read_manifest(root: Path) -> dict[str, Any]:
    """The manifest of the bundle at ``root``, checked for a layout version this code reads.

    Raises:
        BundleError: no manifest, an unreadable one, or a bundle of a newer layout.
    """
    path = root / MANIFEST
    if not root.is_dir():
        raise BundleError("no bundle folder here", file=str(root),
                          fix="pass the folder `backfire export STUDY --out DIR` wrote")
    if not path.is_file():
        raise BundleError("the bundle has no manifest.json, so none of its files can be checked", file=str(path),
                          fix="copy the whole bundle folder again, or export it again with `backfire export`")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BundleError(f"is not valid JSON ({exc})", file=str(path),
                          fix="copy the bundle again; a manifest is never edited by hand") from exc
    version = manifest.get("bundle_schema_version")
    if not isinstance(version, int):
        raise BundleError("has no bundle_schema_version", file=str(path), field="bundle_schema_version",
                          fix="export the study again with `backfire export`")
    if version > BUNDLE_SCHEMA_VERSION:
        raise BundleError(f"the bundle has layout version {version}, newer than this backfire reads "
                          f"({BUNDLE_SCHEMA_VERSION})", file=str(path), field="bundle_schema_version",
                          fix="upgrade alignment-backfire to the version that wrote it (manifest code.version: "
                              f"{(manifest.get('code') or {}).get('version')}), then import again")
    return manifest


def verify_files(root: Path, manifest: dict[str, Any], *, allow_changed: Iterable[str] = ()) -> list[str]:
    """Check every listed file is there with its size and SHA-256; returns the files that differ but whose
    path starts with one of ``allow_changed`` (a reproduction with edited packs), and refuses any other.

    Raises:
        BundleError: a missing file, or one whose content differs from the manifest (naming every such file).
    """
    from core.errors import combine

    problems: list[BundleError] = []
    changed: list[str] = []
    for entry in manifest.get("files", []):
        path = root / entry["path"]
        if not path.is_file():
            problems.append(BundleError("listed in the manifest but missing: the bundle is incomplete",
                                        file=str(path), fix="copy the whole bundle folder again"))
        elif path.stat().st_size != entry["bytes"] or sha256_file(path) != entry["sha256"]:
            if any(entry["path"].startswith(prefix) for prefix in allow_changed):
                changed.append(entry["path"])
                continue
            problems.append(BundleError("its SHA-256 differs from the manifest's: the file was changed or damaged "
                                        "after export", file=str(path),
                                        fix="copy the bundle again from its source, or export it again"))
    if problems:
        raise combine(problems)
    return changed
