"""What produced a study's tables, read from the warehouse: packs and lexicons (copied by content hash),
models as requested and as served, scorers, seeds, dates and the metric spec."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bundle import layout
from bundle.manifest import file_entry
from warehouse.connection import table_exists

if TYPE_CHECKING:
    import duckdb

logger = logging.getLogger(__name__)


def content_entries(con: duckdb.DuckDBPyConnection, study: str, out: Path) -> tuple[list[dict], list[dict]]:
    """Copy each language's pack folder into ``packs/<language>/`` when its files are the ones the runs used
    (same content hash), and describe every (language, content hash) of the study.

    A pack edited since the study ran cannot be bundled as used: its entry says ``files_match_runs: false``
    and no files are copied for it (the tables still carry every row).
    """
    from simulation.content import load_language

    rows = con.execute("""select r.language, r.content_hash, any_value(c.pack_version), any_value(c.lexicon_version)
                          from raw.runs r left join raw.content_packs c using (language, content_hash)
                          where r.study = ? group by all order by 1, 2""", [study]).fetchall()
    entries, files = [], []
    for language, content_hash, pack_version, lexicon_version in rows:
        entry: dict[str, Any] = {"language": language, "content_hash": content_hash, "pack_version": pack_version,
                                 "lexicon_version": lexicon_version, "files_match_runs": False, "files": []}
        try:
            current = load_language(language)
        except Exception as exc:  # a pack removed since: the entry says so
            logger.warning("pack %s not bundled: %s", language, exc)
            entries.append(entry)
            continue
        if current.content_hash == content_hash:
            target = out / layout.PACKS_DIR / language
            target.mkdir(parents=True, exist_ok=True)
            for path in sorted(Path(current.path).iterdir()):
                if path.is_file():
                    shutil.copyfile(path, target / path.name)
                    relative = f"{layout.PACKS_DIR}/{language}/{path.name}"
                    files.append(file_entry(out, relative))
                    entry["files"].append({"path": relative, "sha256": files[-1]["sha256"]})
            entry["files_match_runs"] = True
        else:
            logger.warning("pack %s changed since study %s ran (content hash %s, now %s): not bundled", language,
                           study, content_hash, current.content_hash)
        entries.append(entry)
    return entries, files


def model_provenance(con: duckdb.DuckDBPyConnection, study: str) -> list[dict[str, Any]]:
    """Per model: backend, requested model, every served model and fingerprint, decoding settings."""
    models = con.execute("""
        select model, backend, any_value(requested_model), list(distinct temperature),
               list(distinct top_p), list(distinct max_tokens), list(distinct decoding_seed), bool_or(synthetic)
        from raw.runs where study = ? group by model, backend order by model""", [study]).fetchall()
    served = {(m, s, f): n for m, s, f, n in con.execute("""
        select u.model, u.served_model, u.system_fingerprint, count(*)
        from raw.utterances u join raw.runs r using (run_id)
        where r.study = ? and u.channel <> 'monologue' group by all""", [study]).fetchall()}
    out = []
    for model, backend, requested, temperature, top_p, max_tokens, seed, synthetic in models:
        out.append({"model": model, "backend": backend, "requested_model": requested, "synthetic": bool(synthetic),
                    "served": [{"served_model": s, "system_fingerprint": f, "calls": n}
                               for (m, s, f), n in sorted(served.items(), key=str) if m == model],
                    "decoding": {"temperature": _one(temperature), "top_p": _one(top_p),
                                 "max_tokens": _one(max_tokens), "seed": _one(seed)}})
    return out


def _one(values: list[Any]) -> Any:
    """A setting shared by every run of a model, or the list when runs differ."""
    return values[0] if len(values) == 1 else values


def scorer_configs(con: duckdb.DuckDBPyConnection, study: str, config: dict[str, Any]) -> dict[str, Any]:
    """The scorers the study asked for (as written) and every scorer version, model id and revision whose
    scores its utterances carry."""
    stored = con.execute("""
        select s.scorer, s.scorer_version, s.model_id, count(*) as n_scores, sum(s.abstained::int) as n_abstained
        from raw.scores s where s.utterance_id in (
            select utterance_id from raw.utterances where run_id in (select run_id from raw.runs where study = ?))
        group by all order by 1, 2, 3""", [study]).fetchall()
    return {"requested": [{"name": "lexicon"}, *config.get("scorers", [])],
            "stored": [{"scorer": s, "scorer_version": v, "model_id": m, "scores": int(n), "abstained": int(a or 0)}
                       for s, v, m, n, a in stored]}


def study_facts(con: duckdb.DuckDBPyConnection, study: str, config: dict[str, Any]) -> dict[str, Any]:
    """Evaluation dates, seeds, the metric spec and z reference, and the design's size."""
    dates = [str(d) for (d,) in con.execute("select distinct evaluation_date from raw.runs where study = ? "
                                            "and evaluation_date is not null order by 1", [study]).fetchall()]
    n_runs, n_synthetic, first, last = con.execute(
        "select count(*), count(*) filter (where synthetic), min(created_at), max(created_at) from raw.runs "
        "where study = ?", [study]).fetchone()  # type: ignore[misc]
    cursor = con.execute("select * from raw.studies where study = ?", [study])
    names = [d[0] for d in cursor.description or []]
    stored = dict(zip(names, cursor.fetchone() or (), strict=False))  # a warehouse predating a column lacks it
    specs: list[str] = []
    if table_exists(con, "marts", "run_metrics"):
        columns = {c for (c,) in con.execute("select column_name from information_schema.columns where "
                                             "table_schema = 'marts' and table_name = 'run_metrics'").fetchall()}
        if "metric_spec" in columns:
            specs = [s for (s,) in con.execute("select distinct metric_spec from marts.run_metrics where study = ? "
                                               "order by 1", [study]).fetchall()]
    return {"evaluation_dates": dates,
            "runs": {"total": int(n_runs), "synthetic": int(n_synthetic), "first_created_at": str(first),
                     "last_created_at": str(last)},
            "seeds": {"study_seed": config.get("seed"),
                      "model_seeds": {m.get("name"): m.get("seed", 0) for m in config.get("models", [])}},
            "metric": {"metric_specs": specs, "zscore_reference": stored.get("zscore_reference"),
                       "exclude_statuses": list(stored.get("exclude_statuses") or []),
                       "p_adjust": stored.get("p_adjust"), "alpha": stored.get("alpha")}}
