"""The dbt project and its manifest. Only this module knows where models_dbt lives."""

from __future__ import annotations

import functools
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parents[2] / "models_dbt"
MANIFEST_PATH = PROJECT_DIR / "target" / "manifest.json"


def _newest_source_mtime() -> float:
    files = [p for folder in ("models", "macros", "tests", "seeds") for p in (PROJECT_DIR / folder).rglob("*")
             if p.is_file()]
    files += [PROJECT_DIR / "dbt_project.yml", PROJECT_DIR / "profiles.yml"]
    return max(p.stat().st_mtime for p in files if p.exists())


def dbt_executable() -> str:
    """The dbt of this interpreter's environment, so a venv works without being activated."""
    beside = Path(sys.executable).with_name("dbt")
    return str(beside) if beside.is_file() else "dbt"


def manifest_is_stale() -> bool:
    return not MANIFEST_PATH.is_file() or MANIFEST_PATH.stat().st_mtime < _newest_source_mtime()


def dbt_env() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "False")
    env.setdefault("DBT_PROFILES_DIR", str(PROJECT_DIR))
    return env


def ensure_manifest() -> Path:
    """Run ``dbt parse`` when the manifest is missing or older than the project (4-8 s); headless runs,
    tests and CI need it because ``prepare_if_dev`` only parses under ``dagster dev``. The manifest goes to
    MANIFEST_PATH, where DbtProject reads it, even when DBT_TARGET_PATH sends other dbt artifacts elsewhere."""
    if manifest_is_stale():
        subprocess.run([dbt_executable(), "parse", "--quiet", "--project-dir", str(PROJECT_DIR), "--profiles-dir",
                        str(PROJECT_DIR), "--target-path", str(MANIFEST_PATH.parent)], check=True, env=dbt_env(),
                       cwd=PROJECT_DIR)
    return MANIFEST_PATH


def mart_models() -> list[str]:
    """Names of the mart models (tables in the ``marts`` schema once ``dbt build`` ran), from the project files."""
    return sorted(p.stem for p in (PROJECT_DIR / "models" / "marts").glob("*.sql"))


def run_dbt(args: Sequence[str], db_path: str | os.PathLike[str]) -> subprocess.CompletedProcess[str]:
    """One dbt command (``build``, ``test``, ...) on the warehouse at ``db_path``, outside Dagster: this
    project's dbt and profile, output captured. Used by ``backfire check``, ``backfire score`` and tests."""
    ensure_manifest()
    return subprocess.run([dbt_executable(), *args, "--project-dir", str(PROJECT_DIR), "--profiles-dir",
                           str(PROJECT_DIR)], env=dbt_env() | {"BACKFIRE_DB": str(db_path)}, cwd=PROJECT_DIR,
                          capture_output=True, text=True)


@functools.cache
def dbt_project():
    """The DbtProject with a fresh manifest. ``ensure_manifest`` stands in for ``prepare_if_dev``, which parses
    only under ``dagster dev`` and needs ``dbt`` on PATH (an unactivated venv does not put it there)."""
    from dagster_dbt import DbtProject

    ensure_manifest()
    return DbtProject(project_dir=PROJECT_DIR, profiles_dir=PROJECT_DIR)
