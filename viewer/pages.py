"""Template contexts: query results turned into what the templates lay out. Shared by the server
(``viewer.app``) and the static export (``viewer.export``), so both show the same pages."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from viewer import charts
from viewer.highlight import TARGET, Segment, segments
from viewer.queries import AGENT_METRICS, FAILED_STATUSES, RTL_SCRIPTS, RunPage, run_page

if TYPE_CHECKING:
    import duckdb

MODEL_SCORERS_HIDDEN = frozenset({"lexicon"})
"""Scorers whose values are shown as highlighted hits rather than in the model-scores tooltip."""


@dataclass(frozen=True)
class Links:
    """Where pages live: the server's routes, or the static bundle's files (``prefix`` climbs to its root)."""

    static: bool = False
    prefix: str = "/"

    def index(self, query: Mapping[str, Any] | None = None) -> str:
        from urllib.parse import urlencode

        base = f"{self.prefix}index.html" if self.static else self.prefix
        return base + (f"?{urlencode(query)}" if query else "")

    def run(self, run_id: str) -> str:
        return f"{self.prefix}run/{run_id}.html" if self.static else f"{self.prefix}run/{run_id}"

    def run_pattern(self) -> str:
        """The run link with ``{id}`` for the run id, for the compare page's script."""
        return self.run("{id}")

    def page(self, name: str, query: Mapping[str, Any] | None = None) -> str:
        from urllib.parse import urlencode

        base = f"{self.prefix}{name}.html" if self.static else f"{self.prefix}{name}"
        return base + (f"?{urlencode(query)}" if query else "")

    def asset(self, name: str) -> str:
        return f"{self.prefix}static/{name}"

    def nested(self) -> Links:
        """Links as seen from one folder down (the static bundle's ``run/`` pages)."""
        return Links(self.static, "../" if self.static else self.prefix)


def direction(script: str | None) -> str:
    return "rtl" if script in RTL_SCRIPTS else "ltr"


def _pack_info(run: Mapping[str, Any]) -> dict[str, Any]:
    """Persona names, event texts and the target's name from the run's language pack (the current pack: a
    note says so when it changed since the run)."""
    from core.errors import BackfireError
    from simulation.content import load_language
    from simulation.prompts import fill_target

    try:
        content = load_language(run["language"])
    except BackfireError as exc:
        return {"names": {}, "events": [], "target": "", "note": f"event texts and names unavailable ({exc})"}
    pack = content.pack
    note = "" if content.content_hash == run["content_hash"] else (
        f"The {run['language']} pack changed since this run: events and names are the current pack's.")
    return {"names": {p.id: p.name for p in pack.personas},
            "events": [fill_target(e.text, pack.scenario.target_name) for e in pack.scenario.events],
            "target": pack.scenario.target_name, "note": note}


def _model_scores(scores: Mapping[str, Mapping[str, float | None]]) -> list[tuple[str, str, float | None]]:
    return sorted((scorer, dimension, value) for scorer, values in scores.items() if scorer not in MODEL_SCORERS_HIDDEN
                  for dimension, value in values.items())


def _tooltip(model_scores: list[tuple[str, str, float | None]]) -> str:
    if not model_scores:
        return "no model scores"
    return "\n".join(f"{s}.{d}: {'abstained' if v is None else f'{v:.3f}'}" for s, d, v in model_scores)


def _lexicon_counts(parts: list[Segment]) -> dict[str, float]:
    """Hits per category and the two totals, as the lexicon scorer stores them (``pathology``, ``protective``)."""
    counts: dict[str, float] = {}
    for part in parts:
        if part.category and part.family != TARGET:
            counts[part.category] = counts.get(part.category, 0) + 1
            counts[part.family] = counts.get(part.family, 0) + 1
    return counts


def _utterance(row: dict[str, Any], page: RunPage, language: str, target: str) -> dict[str, Any]:
    scores = page.scores.get(row["utterance_id"], {})
    parts = segments(row["text"], language, target)
    lexicon = {**_lexicon_counts(parts), **{k: v for k, v in scores.get("lexicon", {}).items() if v is not None}}
    model_scores = _model_scores(scores)
    return {**row, "segments": parts, "lexicon": lexicon, "model_scores": model_scores,
            "tooltip": _tooltip(model_scores), "failed": row["status"] in FAILED_STATUSES,
            "hits": {k: v for k, v in sorted(lexicon.items()) if v}}


def run_context(con: duckdb.DuckDBPyConnection, run_id: str) -> dict[str, Any]:
    """Everything run.html lays out for one run."""
    page = run_page(con, run_id)
    run = page.run
    pack = _pack_info(run)
    language = run["language"]
    by_cell: dict[tuple[int, int], dict[str, dict[str, Any]]] = {}
    for row in page.utterances:
        by_cell.setdefault((row["turn"], row["agent_idx"]), {})[row["channel"]] = _utterance(
            row, page, language, pack["target"])
    agents = [{**a, "name": pack["names"].get(a["persona_id"], a["persona_id"])} for a in page.agents]
    n_turns = run["n_turns"]
    turn_labels = [f"turn {t}" for t in range(1, n_turns + 1)]

    def hits(turn: int, agent_idx: int | None, channel: str, dimension: str) -> float:
        cells = [by_cell.get((turn, a["agent_idx"]), {}) for a in agents if agent_idx in (None, a["agent_idx"])]
        return float(sum((c.get(channel) or {}).get("lexicon", {}).get(dimension) or 0 for c in cells))

    turns: list[dict[str, Any]] = []
    for t in range(1, n_turns + 1):
        turns.append({
            "turn": t, "event": pack["events"][t - 1] if t <= len(pack["events"]) else "",
            "agents": [{"agent": a, "cells": by_cell.get((t, a["agent_idx"]), {})} for a in agents],
            "played": any((t, a["agent_idx"]) in by_cell for a in agents),
            "pathology": (hits(t, None, "talk", "pathology"), hits(t, None, "monologue", "pathology")),
        })
    for agent in agents:
        idx = agent["agent_idx"]
        agent["chart"] = charts.paired_bars([hits(t, idx, "talk", "pathology") for t in range(1, n_turns + 1)],
                                            [hits(t, idx, "monologue", "pathology") for t in range(1, n_turns + 1)],
                                            turn_labels, width=150, height=24)
    agent_labels = [f"#{a['agent_idx']} {a['name']}" for a in agents]
    metric_charts = {m: charts.bars([a.get(m) for a in agents], agent_labels, title=f"{m} per agent")
                     for m in AGENT_METRICS}
    turn_chart = charts.paired_bars([t["pathology"][0] for t in turns], [t["pathology"][1] for t in turns],
                                    turn_labels, width=360, height=44)
    failed = [u for cells in by_cell.values() for u in cells.values() if u["failed"]]
    return {"run": run, "pack": pack, "agents": agents, "turns": turns, "dir": direction(run.get("script")),
            "metric_charts": {k: v for k, v in metric_charts.items() if v}, "turn_chart": turn_chart,
            "failed": failed, "counterparts": counterparts(con, run)}


def counterparts(con: duckdb.DuckDBPyConnection, run: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The same cell in the study's other languages (same model, aligned share, individuation, replicate,
    evaluation date): the runs to compare this one with."""
    from viewer.queries import rows

    return rows(con, """select run_id, language from raw.runs
                        where study = ? and model = ? and aligned_share = ? and individuation = ?
                          and replicate = ? and evaluation_date is not distinct from ? and run_id <> ?
                        order by language, run_id""",
                [run["study"], run["model"], run["aligned_share"], run["individuation"], run["replicate"],
                 run["evaluation_date"], run["run_id"]])
