"""The bundle's self-description: a README (with the Hugging Face ``configs`` front matter, one config per
table) and a Frictionless Data ``datapackage.json`` describing each table's columns."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bundle import layout
from bundle.manifest import file_entry

if TYPE_CHECKING:
    import duckdb

_FRICTIONLESS_TYPES = {"VARCHAR": "string", "BOOLEAN": "boolean", "DATE": "date", "DOUBLE": "number",
                       "FLOAT": "number", "INTEGER": "integer", "BIGINT": "integer", "SMALLINT": "integer",
                       "TINYINT": "integer", "TIMESTAMP WITH TIME ZONE": "datetime", "TIMESTAMP": "datetime"}


def _field_type(duckdb_type: str) -> str:
    if duckdb_type.endswith("[]"):
        return "array"
    if duckdb_type.startswith("DECIMAL"):
        return "number"
    return _FRICTIONLESS_TYPES.get(duckdb_type, "any")


def write_datapackage(out: Path, con: duckdb.DuckDBPyConnection, manifest: dict[str, Any],
                      files: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``datapackage.json``: one tabular resource per Parquet table, with its columns, rows and hash."""
    resources = []
    for entry in sorted((f for f in files if f.get("table")), key=lambda f: f["path"]):
        path = str(out / entry["path"]).replace("'", "''")
        columns = con.execute(f"describe select * from read_parquet('{path}')").fetchall()
        resources.append({
            "name": layout.folder_name(*entry["table"].split(".", 1)), "path": entry["path"], "format": "parquet",
            "mediatype": "application/vnd.apache.parquet", "profile": "tabular-data-resource",
            "title": entry["table"], "bytes": entry["bytes"], "hash": f"sha256:{entry['sha256']}",
            "schema": {"fields": [{"name": name, "type": _field_type(kind), "duckdb_type": kind}
                                  for name, kind, *_ in columns]},
            "rows": entry["rows"]})
    package = {"profile": "tabular-data-package", "name": f"alignment-backfire-{manifest['study']}",
               "title": f"alignment-backfire study {manifest['study']}", "created": manifest["created_at"],
               "version": str(layout.BUNDLE_SCHEMA_VERSION), "resources": resources,
               "sources": [{"title": "alignment-backfire", "path": "https://arxiv.org/abs/2603.04904"}]}
    (out / layout.DATAPACKAGE).write_text(json.dumps(package, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return [file_entry(out, layout.DATAPACKAGE)]


def write_readme(out: Path, manifest: dict[str, Any], files: list[dict[str, Any]], *,
                 source: str = "") -> list[dict[str, Any]]:
    """``README.md``: what the bundle is, how to load it, and the one command that reproduces the marts."""
    tables = sorted((f for f in files if f.get("table")), key=lambda f: f["path"])
    configs = "\n".join(f"- config_name: {layout.folder_name(*f['table'].split('.', 1))}\n"
                        f"  data_files: {Path(f['path']).parent.as_posix()}/*.parquet" for f in tables)
    study = manifest["study"]
    synthetic = manifest["runs"]["synthetic"] == manifest["runs"]["total"] and manifest["runs"]["total"] > 0
    listing = "\n".join(f"| `{f['table']}` | `{f['path']}` | {f['rows']:,} |" for f in tables)
    text_note = ("" if manifest["options"]["text_included"] else
                 "\n**Text removed (`--no-text`):** the `text` column of the utterance tables is empty; every score "
                 "is kept, so the marts rebuild exactly, but transcripts cannot be read or re-scored.\n")
    cache_note = ("The response cache (`raw.llm_calls`) is included: `backfire reproduce` replays every reply from "
                  "it with zero model calls." if manifest["options"]["with_cache"] else
                  "The response cache is not included (export with `--with-cache` to replay a real-model study "
                  "without calls); a synthetic study reproduces without it.")
    readme = f"""---
configs:
{configs}
---
# alignment-backfire study `{study}`: reproducibility bundle

Exported {manifest['created_at']} by alignment-backfire {manifest['code']['version']} (git commit
{manifest['code']['git_commit'] or 'unknown'}{', uncommitted changes' if manifest['code']['git_dirty'] else ''})
{f'from `{source}`' if source else ''}. {'**SYNTHETIC DATA: planted effects, never a finding.**' if synthetic else ''}
{text_note}
## Reproduce the marts

```bash
backfire import . --db reproduced.duckdb      # checks every hash, loads the tables, rebuilds the marts
```

`backfire reproduce .` goes further: it re-runs the study from `study.yaml` and `packs/` into a new
warehouse and diffs its marts with `data/marts_*`. {cache_note}

## What is here

- `data/<schema>_<table>/*.parquet` (zstd): the study's raw tables and its mart rows, one folder per table.
- `study.yaml`: the study as run; `packs/<language>/`: the exact pack, lexicon and test files (by content hash,
  in `manifest.json` `content`); `config/scorers.json`: scorer models, versions and revisions.
- `manifest.json`: code version, package versions, Python and platform, model provenance (requested and served
  model, fingerprint, decoding settings), dates, seeds, metric spec and z reference, and the size, rows and
  SHA-256 of every file. `datapackage.json`: Frictionless Data description of every table's columns.
- `report/report.html`: the study's HTML report. `viewer/index.html` (when present): the transcript viewer's
  static export of a spread of the study's runs; it opens from disk, no server needed.

## Load the tables

```python
import pandas as pd, duckdb
runs = pd.read_parquet("data/raw_runs")                                   # pandas (pyarrow)
duckdb.sql("select * from 'data/marts_backfire_by_language/*.parquet'")  # DuckDB
from datasets import load_dataset                                         # Hugging Face datasets
scores = load_dataset("parquet", data_dir="data/raw_scores", split="train")
```

| table | file | rows |
|---|---|---|
{listing}
"""
    (out / layout.README).write_text(readme, encoding="utf-8")
    return [file_entry(out, layout.README)]
