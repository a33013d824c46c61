"""The viewer's read-only SQL: the runs list, one run's turns with their scores, and dissociation examples.

Every query only selects; the connection is opened read-only (``open_read_only``), so nothing here can write.
Marts that a warehouse lacks (dbt not run yet) read as empty metrics, not as an error: the raw transcripts are
what a reader came for.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from core.errors import BackfireError
from scoring.lexicon_scorer import LEXICON_DIMENSIONS
from warehouse.connection import table_exists

if TYPE_CHECKING:
    import duckdb

FAILED_STATUSES = ("error", "parse_error", "refused", "truncated")
"""Statuses the list's status filter and the run page single out (``error`` is a failed call)."""
RUN_METRICS = ("cpi", "di", "monologue_ratio", "pathology_rate", "protective_rate", "conformity_share",
               "cpi_v2", "di_v2", "pathology_prob", "protective_prob", "semantic_conformity",
               "semantic_dissociation", "language_fidelity")
"""Columns of ``marts.run_metrics`` the list shows and sorts by."""
AGENT_METRICS = ("cpi", "di", "monologue_ratio", "pathology_rate", "protective_rate", "conformity_share")
SORTABLE = frozenset({*RUN_METRICS, "language", "model", "aligned_share", "replicate", "study", "n_failed",
                      "evaluation_date", "run_id"})
FILTERS = ("study", "language", "model", "aligned_share", "individuation", "evaluation_date", "synthetic", "status")
STATUS_FILTERS = {"failed": "error", "parse_error": "parse_error", "refused": "refused", "truncated": "truncated",
                  "any": None}
"""``status=`` values: runs with at least one call of that status (``any``: of any status but ok)."""
RTL_SCRIPTS = frozenset({"Arab", "Hebr", "Syrc", "Thaa", "Nkoo", "Adlm"})


class RunNotFound(BackfireError):
    """No run has this id: the app answers 404 with a link back to the list."""


@dataclass(frozen=True)
class RunFilters:
    """The list's filters, from a query string; empty means no filter."""

    study: str = ""
    language: str = ""
    model: str = ""
    aligned_share: str = ""
    individuation: str = ""
    evaluation_date: str = ""
    synthetic: str = ""
    status: str = ""
    sort: str = "cpi"
    descending: bool = True

    @classmethod
    def from_query(cls, query: Any) -> RunFilters:
        values = {name: str(query.get(name, "")).strip() for name in FILTERS}
        sort = str(query.get("sort", "cpi"))
        return cls(**values, sort=sort if sort in SORTABLE else "cpi",
                   descending=str(query.get("order", "desc")) != "asc")

    def as_query(self) -> dict[str, str]:
        return {name: getattr(self, name) for name in FILTERS if getattr(self, name)}


def rows(con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
    cursor = con.execute(sql, list(params))
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _has(con: duckdb.DuckDBPyConnection, qualified: str) -> bool:
    schema, table = qualified.split(".")
    return table_exists(con, schema, table)


def _metrics_select(con: duckdb.DuckDBPyConnection) -> tuple[str, str]:
    """The metric columns and the join that brings them, or NULLs when the marts are not built."""
    if not _has(con, "marts.run_metrics"):
        return ", ".join(f"null::double as {m}" for m in RUN_METRICS), ""
    present = {r[0] for r in con.execute(
        "select column_name from information_schema.columns where table_schema = 'marts' "
        "and table_name = 'run_metrics'").fetchall()}
    columns = ", ".join(f"m.{m}" if m in present else f"null::double as {m}" for m in RUN_METRICS)
    return columns, "left join marts.run_metrics m on m.run_id = r.run_id"


def list_runs(con: duckdb.DuckDBPyConnection, filters: RunFilters, limit: int | None = None) -> list[dict[str, Any]]:
    """One row per run matching ``filters``: design, metrics, pack version and call-status counts."""
    metrics, join = _metrics_select(con)
    where: list[str] = ["true"]
    params: list[Any] = []
    for name in ("study", "language", "model"):
        if value := getattr(filters, name):
            where.append(f"r.{name} = ?")
            params.append(value)
    if filters.aligned_share:
        where.append("abs(r.aligned_share - ?) < 1e-9")
        params.append(_number(filters.aligned_share, "aligned_share"))
    for name in ("individuation", "synthetic"):
        if value := getattr(filters, name):
            where.append(f"r.{name} = ?")
            params.append(value in ("1", "true", "yes", "on"))
    if filters.evaluation_date:
        if filters.evaluation_date == "none":
            where.append("r.evaluation_date is null")
        else:
            where.append("r.evaluation_date = ?")
            params.append(_date(filters.evaluation_date))
    if filters.status in STATUS_FILTERS:
        status = STATUS_FILTERS[filters.status]
        where.append("s.n_failed > 0" if status is None else f"s.n_{status} > 0")
    order = f"{filters.sort} {'desc' if filters.descending else 'asc'} nulls last, r.run_id"
    counts = ", ".join(f"count(*) filter (where status = '{s}') as n_{s}" for s in FAILED_STATUSES)
    totals = ", ".join(f"coalesce(s.n_{s}, 0) as n_{s}" for s in FAILED_STATUSES)
    sql = f"""
        with status_counts as (
            select run_id, {counts}, count(*) filter (where status <> 'ok') as n_failed,
                   count(*) filter (where channel = 'talk') as n_talk, max(turn) as turns_played
            from raw.utterances group by run_id
        )
        select r.run_id, r.study, r.language, r.model, r.aligned_share, r.k_aligned, r.n_agents, r.n_turns,
               r.individuation, r.replicate, r.evaluation_date, r.synthetic, p.pack_version, p.script,
               coalesce(s.n_failed, 0) as n_failed, {totals},
               coalesce(s.turns_played, 0) as turns_played, {metrics}
        from raw.runs r
        left join raw.content_packs p on p.language = r.language and p.content_hash = r.content_hash
        left join status_counts s on s.run_id = r.run_id
        {join}
        where {" and ".join(where)}
        order by {order}
        {f"limit {int(limit)}" if limit else ""}"""
    return rows(con, sql, params)


def facets(con: duckdb.DuckDBPyConnection) -> dict[str, list[Any]]:
    """The values each filter offers, from the runs present."""
    found: dict[str, list[Any]] = {}
    for name in ("study", "language", "model", "aligned_share", "evaluation_date"):
        found[name] = [r[0] for r in con.execute(
            f"select distinct {name} from raw.runs where {name} is not null order by 1").fetchall()]
    return found


def _number(value: str, name: str) -> float:
    try:
        return float(value)
    except ValueError as exc:
        raise BackfireError(f"{value!r} is not a number", field=name, fix=f"pass {name}=0.5, for example") from exc


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise BackfireError(f"{value!r} is not a date", field="evaluation_date",
                            fix="pass evaluation_date=YYYY-MM-DD (or none)") from exc


@dataclass
class RunPage:
    """Everything one run page shows."""

    run: dict[str, Any]
    agents: list[dict[str, Any]]
    utterances: list[dict[str, Any]]
    scores: dict[str, dict[str, dict[str, float | None]]] = field(default_factory=dict)
    """utterance_id -> scorer (``scorer[model_id]`` for model scorers) -> dimension -> value (None: abstained);
    of the lexicon, only dimensions beyond ``LEXICON_DIMENSIONS`` (the page counts those from its hits)."""


def find_run_id(con: duckdb.DuckDBPyConnection, run_id: str) -> str:
    """The full id of ``run_id`` (or of the one run it is a unique prefix of)."""
    found = [r[0] for r in con.execute("select run_id from raw.runs where starts_with(run_id, ?) order by run_id "
                                       "limit 2", [run_id]).fetchall()]
    if run_id in found or len(found) == 1:
        return run_id if run_id in found else found[0]
    raise RunNotFound(f"no run '{run_id}' in raw.runs" if not found else f"'{run_id}' starts several run ids",
                      field="run_id", fix="pick a run from the runs list")


def run_page(con: duckdb.DuckDBPyConnection, run_id: str) -> RunPage:
    """A run's design and metrics, its agents with their metrics, every stored utterance and its scores."""
    run_id = find_run_id(con, run_id)
    metrics, join = _metrics_select(con)
    run = rows(con, f"""select r.*, p.pack_version, p.script, p.segmentation, {metrics}
                        from raw.runs r
                        left join raw.content_packs p on p.language = r.language and p.content_hash = r.content_hash
                        {join} where r.run_id = ?""", [run_id])[0]
    agent_join, agent_columns = "", ", ".join(f"null::double as {m}" for m in AGENT_METRICS)
    if _has(con, "marts.agent_metrics"):
        agent_join = "left join marts.agent_metrics m on m.run_id = a.run_id and m.agent_idx = a.agent_idx"
        agent_columns = ", ".join(f"m.{m}" for m in AGENT_METRICS)
    agents = rows(con, f"""select a.agent_idx, a.persona_id, a.aligned, a.individuated, {agent_columns}
                           from raw.agents a {agent_join} where a.run_id = ? order by a.agent_idx""", [run_id])
    utterances = rows(con, """select utterance_id, turn, agent_idx, channel, text, status, error, reasks,
                                     tokens_out, latency_ms, cache_hit, served_model
                              from raw.utterances where run_id = ? order by turn, agent_idx, channel""", [run_id])
    page = RunPage(run, agents, utterances)
    ids = [u["utterance_id"] for u in utterances]
    if _has(con, "marts.utterance_scores"):  # stored in run order: a run's rows are read without a scan
        found = con.execute("""select utterance_id, scorer, model_id, dimension, value, abstained
                               from marts.utterance_scores where run_id = ?""", [run_id]).fetchall()
    elif ids:  # a warehouse whose marts predate it: the same rows from raw.scores (slower at scale)
        found = con.execute("""select utterance_id, scorer, model_id, dimension, value, abstained from raw.scores
                               where (scorer <> 'lexicon' or dimension not in (select unnest(?::varchar[])))
                                 and utterance_id in (select unnest(?::varchar[]))""",
                            [list(LEXICON_DIMENSIONS), ids]).fetchall()
    else:
        found = []
    for utterance_id, scorer, model_id, dimension, value, abstained in found:
        label = scorer if scorer == "lexicon" or model_id in (None, "none") else f"{scorer}[{model_id}]"
        page.scores.setdefault(utterance_id, {}).setdefault(label, {})[dimension] = None if abstained else value
    return page


DISSOCIATION_DIRECTIONS = {
    "masking": "talk protective, monologue pathological",
    "reverse": "talk pathological, monologue protective",
}


def dissociation_examples(con: duckdb.DuckDBPyConnection, *, language: str = "", aligned_share: str = "",
                          aligned: str = "", direction: str = "", study: str = "",
                          run_ids: Sequence[str] | None = None, limit: int = 100) -> list[dict[str, Any]]:
    """(run, turn, agent) cells whose public talk and private monologue lean different ways, ranked by the gap.

    A channel's lean is its protective minus its pathology lexicon hits; the gap is talk's lean minus the
    monologue's. ``masking`` (gap > 0): talk more protective than the monologue (the pattern DI measures: a
    protective public face over a private voice that is not); ``reverse`` (gap < 0): the other way round. Ties
    rank the longer monologue (relative to its talk) first. ``run_ids`` limits the search to those runs.
    """
    run_where: list[str] = ["true"]
    params: list[Any] = []
    for name, value in (("r.language", language), ("r.study", study)):
        if value:
            run_where.append(f"{name} = ?")
            params.append(value)
    if aligned_share:
        run_where.append("abs(r.aligned_share - ?) < 1e-9")
        params.append(_number(aligned_share, "aligned_share"))
    if run_ids is not None:
        run_where.append("r.run_id in (select unnest(?::varchar[]))")
        params.append(list(run_ids))
    chosen = {"masking": "gap > 0", "reverse": "gap < 0"}.get(direction, "gap <> 0")
    agent_where = ""
    if aligned:
        agent_where = "and a.aligned = ?"
        params.append(aligned in ("1", "true", "yes"))
    sql = f"""
        with runs as (
            select r.run_id, r.study, r.language, r.model, r.aligned_share, r.replicate
            from raw.runs r where {" and ".join(run_where)}
        ),
        lexicon as (
            select u.run_id, u.turn, u.agent_idx, u.channel,
                   sum(s.value) filter (where s.dimension = 'pathology') as pathology,
                   sum(s.value) filter (where s.dimension = 'protective') as protective,
                   sum(s.value) filter (where s.dimension = 'characters') as characters
            from raw.utterances u
            join runs using (run_id)
            join raw.scores s on s.utterance_id = u.utterance_id and s.scorer = 'lexicon'
                 and s.dimension in ('pathology', 'protective', 'characters') and not s.abstained
            where u.channel in ('talk', 'monologue') and u.status = 'ok'
            group by all
        ),
        cells as (
            select run_id, turn, agent_idx,
                   max(pathology) filter (where channel = 'talk') as talk_pathology,
                   max(protective) filter (where channel = 'talk') as talk_protective,
                   max(pathology) filter (where channel = 'monologue') as mono_pathology,
                   max(protective) filter (where channel = 'monologue') as mono_protective,
                   max(characters) filter (where channel = 'monologue')
                       / nullif(max(characters) filter (where channel = 'talk'), 0) as length_ratio
            from lexicon group by all
        ),
        ranked as (
            select c.*, (talk_protective - talk_pathology) - (mono_protective - mono_pathology) as gap
            from cells c
        )
        select x.*, r.study, r.language, r.model, r.aligned_share, r.replicate, a.aligned, a.individuated,
               a.persona_id
        from ranked x
        join runs r using (run_id)
        join raw.agents a on a.run_id = x.run_id and a.agent_idx = x.agent_idx
        where ({chosen}) {agent_where}
        order by abs(gap) desc, length_ratio desc nulls last, x.run_id, x.turn, x.agent_idx
        limit {int(limit)}"""
    found = rows(con, sql, params)
    if not found:
        return found
    texts = {}
    keys = [(f["run_id"], f["turn"], f["agent_idx"]) for f in found]
    for run_id, turn, agent_idx, channel, text in con.execute(
            """select u.run_id, u.turn, u.agent_idx, u.channel, u.text from raw.utterances u
               join (select unnest(?::varchar[]) as run_id, unnest(?::integer[]) as turn,
                            unnest(?::integer[]) as agent_idx) k using (run_id, turn, agent_idx)
               where u.channel in ('talk', 'monologue')""",
            [[k[0] for k in keys], [k[1] for k in keys], [k[2] for k in keys]]).fetchall():
        texts[(run_id, turn, agent_idx, channel)] = text
    for row in found:
        key = (row["run_id"], row["turn"], row["agent_idx"])
        row["talk"] = texts.get((*key, "talk"), "")
        row["monologue"] = texts.get((*key, "monologue"), "")
        row["direction"] = "masking" if row["gap"] > 0 else "reverse"
    return found
