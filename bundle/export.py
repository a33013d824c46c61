"""``export_study``: one study of a warehouse as a reproducibility bundle (Parquet tables, the exact study,
packs, lexicons and scorer configs, the report, a manifest of hashes and versions)."""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from bundle import layout
from bundle.describe import write_datapackage, write_readme
from bundle.manifest import code_version, environment, file_entry, now_utc, package_versions, write_manifest
from bundle.provenance import content_entries, model_provenance, scorer_configs, study_facts
from core.errors import BundleError
from warehouse.connection import table_exists

if TYPE_CHECKING:
    import duckdb

logger = logging.getLogger(__name__)
ExtraWriter = Callable[["duckdb.DuckDBPyConnection", Path], None]
"""Writes extra files into a folder of the bundle (the report, the transcript viewer's static export)."""


@dataclass(frozen=True)
class ExportOptions:
    with_cache: bool = False
    """Add the response cache (``raw.llm_calls`` of the study's models): a replay makes no model call."""
    include_text: bool = True
    """False (``--no-text``): talk and monologue text is blanked; every score is kept."""


def _study_filters(study: str) -> dict[str, str]:
    """The rows of each raw table that belong to ``study`` (a SQL query per table)."""
    runs = f"select run_id from raw.runs where study = '{study}'"
    utterances = f"select utterance_id from raw.utterances where run_id in ({runs})"
    superseded = f"select utterance_id from raw.utterances_superseded where run_id in ({runs})"
    return {
        "studies": f"select * from raw.studies where study = '{study}'",
        "content_packs": "select * from raw.content_packs where (language, content_hash) in "
                         f"(select distinct language, content_hash from raw.runs where study = '{study}')",
        "runs": f"select * from raw.runs where study = '{study}'",
        "agents": f"select * from raw.agents where run_id in ({runs})",
        "utterances": f"select * from raw.utterances where run_id in ({runs})",
        "utterances_superseded": f"select * from raw.utterances_superseded where run_id in ({runs})",
        "scores": f"select * from raw.scores where utterance_id in ({utterances} union {superseded})",
        "llm_calls": "select * from raw.llm_calls where model in (select distinct coalesce(requested_model, model) "
                     f"from raw.runs where study = '{study}' union select distinct model from raw.runs "
                     f"where study = '{study}')",
    }


def _portable(con: duckdb.DuckDBPyConnection, query: str, *, blank_text: bool) -> str:
    """``query`` with types every Parquet reader takes (128-bit integers as BIGINT) and, for ``--no-text``,
    the text column emptied."""
    columns = con.execute(f"describe {query}").fetchall()
    parts = []
    for name, kind, *_ in columns:
        quoted = '"' + name.replace('"', '""') + '"'
        if blank_text and name == "text":
            parts.append(f"''::varchar as {quoted}")
        elif kind in ("HUGEINT", "UHUGEINT"):
            parts.append(f"{quoted}::bigint as {quoted}")
        else:
            parts.append(quoted)
    return f"select {', '.join(parts)} from ({query})"


def _copy(con: duckdb.DuckDBPyConnection, query: str, out: Path, relative: str, table: str, *,
          order_by: str | None = None, blank_text: bool = False) -> dict[str, Any]:
    target = out / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    select = _portable(con, query, blank_text=blank_text) + (f" order by {order_by}" if order_by else "")
    row = con.execute(f"copy ({select}) to '{str(target).replace(chr(39), chr(39) * 2)}' "
                      "(format parquet, compression zstd, row_group_size 122880)").fetchone()
    return file_entry(out, relative, rows=int(row[0]) if row else 0, table=table)


_ORDER = {"runs": "run_id", "agents": "run_id, agent_idx", "utterances": "run_id, turn, agent_idx, channel",
          "scores": "utterance_id, scorer, scorer_version, dimension", "studies": "study",
          "content_packs": "language, content_hash", "llm_calls": "call_key",
          "utterances_superseded": "utterance_id, superseded_at"}


def _mart_tables(con: duckdb.DuckDBPyConnection) -> list[tuple[str, bool]]:
    """Every mart table and whether it has a study column (reference marts have none)."""
    rows = con.execute("""
        select t.table_name, bool_or(c.column_name = 'study')
        from information_schema.tables t join information_schema.columns c
             on c.table_schema = t.table_schema and c.table_name = t.table_name
        where t.table_schema = 'marts' and t.table_type = 'BASE TABLE'
        group by t.table_name order by t.table_name""").fetchall()
    return [(name, bool(has_study)) for name, has_study in rows]


def export_study(con: duckdb.DuckDBPyConnection, study: str, out: Path, options: ExportOptions = ExportOptions(),
                 *, source: str = "", report_writer: ExtraWriter | None = None,
                 viewer_writer: ExtraWriter | None = None) -> dict[str, Any]:
    """Write the bundle of ``study`` to ``out`` (which must not exist or be empty) and return its manifest.

    Args:
        con: a read-only connection to the warehouse.
        study: the study's name (``raw.studies.study``).
        out: the bundle folder.
        options: cache and text choices.
        source: the warehouse path, for the README.
        report_writer: writes the HTML report into a folder (``report/``).
        viewer_writer: writes the transcript viewer's static export into a folder (``viewer/``), where one exists.

    Raises:
        BundleError: no such study, a non-empty ``out``, or the cache asked for together with ``--no-text``.
    """
    if options.with_cache and not options.include_text:
        raise BundleError("--with-cache and --no-text contradict each other: the cache holds every reply's text",
                          field="--with-cache", fix="drop one of the two options")
    _check_study(con, study)
    if out.exists() and any(out.iterdir()):
        raise BundleError("the output folder is not empty", file=str(out),
                          fix="pass a new folder to --out (an export never overwrites files)")
    out.mkdir(parents=True, exist_ok=True)
    filters = _study_filters(study)
    files: list[dict[str, Any]] = []
    tables = [*layout.RAW_TABLES, *([layout.CACHE_TABLE] if options.with_cache else [])]
    for table in tables:
        files.append(_copy(con, filters[table], out, layout.table_path("raw", table), f"raw.{table}",
                           order_by=_ORDER[table],
                           blank_text=not options.include_text and table in layout.TEXT_TABLES))
    for mart, has_study in _mart_tables(con):
        if mart in layout.WAREHOUSE_WIDE_MARTS or not (has_study or mart in layout.REFERENCE_MARTS):
            continue
        query = f"select * from marts.{mart}" + (f" where study = '{study}'" if has_study else "")
        files.append(_copy(con, query, out, layout.table_path("marts", mart), f"marts.{mart}"))
    config = json.loads(con.execute("select config_json from raw.studies where study = ?", [study]).fetchone()[0])
    (out / layout.STUDY_FILE).write_text(yaml.safe_dump(config, sort_keys=False, allow_unicode=True),
                                         encoding="utf-8")
    files.append(file_entry(out, layout.STUDY_FILE))
    content, pack_files = content_entries(con, study, out)
    files += pack_files
    scorers_path = out / layout.CONFIG_DIR / "scorers.json"
    scorers_path.parent.mkdir(parents=True, exist_ok=True)
    scorers = scorer_configs(con, study, config)
    scorers_path.write_text(json.dumps(scorers, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    files.append(file_entry(out, f"{layout.CONFIG_DIR}/scorers.json"))
    files += _synthetic_effects(con, study, out)
    files += _extra(con, out, layout.REPORT_DIR, report_writer)
    # The transcript viewer's static export (`backfire view --export`) goes into viewer/ when the caller passes
    # it as viewer_writer (the CLI does, unless --viewer-runs 0); never without the text it would show.
    files += _extra(con, out, layout.VIEWER_DIR, viewer_writer if options.include_text else None)
    manifest: dict[str, Any] = {
        "bundle_schema_version": layout.BUNDLE_SCHEMA_VERSION,
        "study": study,
        "created_at": now_utc(),
        "code": code_version(),
        "packages": package_versions(),
        "environment": environment(),
        "dbt_project": _dbt_project(),
        "options": {"with_cache": options.with_cache, "text_included": options.include_text},
        **study_facts(con, study, config),
        "models": model_provenance(con, study),
        "content": content,
        "scorers": scorers,
        "reproduce": "backfire import DIR --db NEW.duckdb  (rebuilds the marts); backfire reproduce DIR "
                     "(re-runs the study and diffs the marts)",
    }
    files += write_readme(out, manifest, files, source=source)
    files += write_datapackage(out, con, manifest, files)
    manifest["files"] = sorted(files, key=lambda entry: entry["path"])
    write_manifest(out, manifest)
    return manifest


def _check_study(con: duckdb.DuckDBPyConnection, study: str) -> None:
    if not table_exists(con, "raw", "studies"):
        raise BundleError("the warehouse has no studies", fix="run a study first (backfire run STUDY), or pass --db")
    known = [r[0] for r in con.execute("select study from raw.studies order by 1").fetchall()]
    if study not in known:
        raise BundleError(f"no study '{study}' in the warehouse", field="STUDY",
                          fix=f"use one of {', '.join(known) or '(none)'}, or pass --db PATH of its warehouse")


def _synthetic_effects(con: duckdb.DuckDBPyConnection, study: str, out: Path) -> list[dict[str, Any]]:
    """The planted effects file, for a study with synthetic runs (the synthetic backend's 'model')."""
    synthetic = con.execute("select bool_or(synthetic) from raw.runs where study = ?", [study]).fetchone()
    if not (synthetic and synthetic[0]):
        return []
    from simulation.backends.synthetic import DEFAULT_EFFECTS_PATH

    relative = f"{layout.CONFIG_DIR}/synthetic_effects.yaml"
    shutil.copyfile(DEFAULT_EFFECTS_PATH, out / relative)
    return [file_entry(out, relative)]


def _extra(con: duckdb.DuckDBPyConnection, out: Path, folder: str, writer: ExtraWriter | None) -> list[dict]:
    if writer is None:
        return []
    target = out / folder
    target.mkdir(parents=True, exist_ok=True)
    writer(con, target)
    return [file_entry(out, path.relative_to(out).as_posix()) for path in sorted(target.rglob("*"))
            if path.is_file()]


def _dbt_project() -> dict[str, Any]:
    """The dbt project's name, version and vars, and one hash over its models, macros and seeds (what the
    marts are computed from)."""
    import hashlib

    root = Path(__file__).resolve().parents[1] / "models_dbt"
    project = yaml.safe_load((root / "dbt_project.yml").read_text(encoding="utf-8"))
    digest = hashlib.sha256()
    for folder in ("models", "macros", "seeds", "tests"):
        for path in sorted((root / folder).rglob("*")):
            if path.is_file():
                digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return {"name": project.get("name"), "version": project.get("version"), "vars": project.get("vars", {}),
            "sources_sha256": digest.hexdigest()}
