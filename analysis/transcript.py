"""A run's transcript for a terminal (``backfire transcript``): per turn the event the facility announced, then
each agent's talk beside its private monologue, so a reader sees where the two part ways."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from core.errors import BackfireError

if TYPE_CHECKING:
    import duckdb

SIDE_BY_SIDE_MIN_WIDTH = 80
"""Below this many columns talk and monologue go one under the other (each side would be under 38 cells)."""
LIST_RUNS = ('backfire query "select run_id, study, language, model, aligned_share, replicate from raw.runs '
             'order by all"')


@dataclass(frozen=True)
class _Pack:
    names: dict[str, str]
    events: list[str]
    note: str


def find_run(con: duckdb.DuckDBPyConnection, run_id: str) -> dict[str, Any]:
    """The run whose id is ``run_id`` or starts with it (a unique prefix saves pasting a full hash)."""
    cursor = con.execute("select * from raw.runs where starts_with(run_id, ?) order by run_id limit 6", [run_id])
    columns = [d[0] for d in cursor.description]
    found = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
    exact = [run for run in found if run["run_id"] == run_id]
    if exact or len(found) == 1:
        return (exact or found)[0]
    if not found:
        raise BackfireError(f"no run '{run_id}' in raw.runs", field="RUN_ID",
                            fix=f"list run ids with `{LIST_RUNS}` (add --db PATH for another warehouse)")
    shown = ", ".join(run["run_id"] for run in found[:5])
    raise BackfireError(f"'{run_id}' starts {'more than 5' if len(found) > 5 else len(found)} run ids ({shown})",
                        field="RUN_ID", fix="give more characters of the run id")


def _pack(run: dict[str, Any]) -> _Pack:
    """Persona names and event texts ({target} filled) from the run's language pack, as the engine used them."""
    from simulation.content import load_language
    from simulation.prompts import fill_target

    try:
        content = load_language(run["language"])
    except BackfireError as exc:
        return _Pack({}, [], f"event texts and names unavailable ({exc})")
    pack = content.pack
    note = "" if content.content_hash == run["content_hash"] else (
        f"note: the {run['language']} pack changed since this run (content hash {run['content_hash'][:12]}, now "
        f"{content.content_hash[:12]}): events and names are the current pack's")
    return _Pack({p.id: p.name for p in pack.personas},
                 [fill_target(event.text, pack.scenario.target_name) for event in pack.scenario.events], note)


def _block(label: str, text: str, width: int, indent: str) -> list[str]:
    from analysis.display import wrap

    lines = wrap(text, width - len(indent)) if text else ["(empty)"]
    return [f"{indent}{label}", *(indent + line for line in lines)]


def _side_by_side(talk: str, monologue: str, width: int, indent: str) -> list[str]:
    from analysis.display import pad, wrap

    column = (width - len(indent) - 3) // 2
    left = ["talk", *(wrap(talk, column) if talk else ["(empty)"])]
    right = ["monologue", *(wrap(monologue, column) if monologue else ["(empty)"])]
    rows = max(len(left), len(right))
    left += [""] * (rows - len(left))
    right += [""] * (rows - len(right))
    return [f"{indent}{pad(a, column)} │ {b}".rstrip() for a, b in zip(left, right, strict=True)]


def render_transcript(con: duckdb.DuckDBPyConnection, run_id: str, *, turn: int | None = None,
                      agent: int | None = None, width: int = 100) -> str:
    """The run's stored turns (or one turn, or one agent) laid out for ``width`` columns: talk and monologue
    side by side from SIDE_BY_SIDE_MIN_WIDTH columns, one under the other below; a status other than ok is
    shown with its error text."""
    run = find_run(con, run_id)
    if turn is not None and not 1 <= turn <= run["n_turns"]:
        raise BackfireError(f"turn {turn} is outside this run's turns 1..{run['n_turns']}", field="--turn",
                            fix=f"pass --turn between 1 and {run['n_turns']}")
    if agent is not None and not 0 <= agent < run["n_agents"]:
        raise BackfireError(f"agent {agent} is outside this run's agents 0..{run['n_agents'] - 1}",
                            field="--agent", fix=f"pass --agent between 0 and {run['n_agents'] - 1}")
    pack = _pack(run)
    agents = {idx: (persona, aligned, individuated) for idx, persona, aligned, individuated in con.execute(
        "select agent_idx, persona_id, aligned, individuated from raw.agents where run_id = ?",
        [run["run_id"]]).fetchall()}
    utterances: dict[tuple[int, int], dict[str, tuple[str, str, str | None]]] = {}
    for t, idx, channel, text, status, error in con.execute(
            "select turn, agent_idx, channel, text, status, error from raw.utterances where run_id = ? "
            "and (? is null or turn = ?) and (? is null or agent_idx = ?)",
            [run["run_id"], turn, turn, agent, agent]).fetchall():
        utterances.setdefault((t, idx), {})[channel] = (text, status, error)

    wording = run.get("wording") or "base"
    lines = [f"run {run['run_id']} · study {run['study']} · {run['language']} · {run['model']}"
             + (" · SYNTHETIC (planted effects, not a finding)" if run["synthetic"] else ""),
             f"aligned share {run['aligned_share']:g} ({run['k_aligned']}/{run['n_agents']} agents) · "
             f"replicate {run['replicate']} · individuation {'on' if run['individuation'] else 'off'}"
             + (f" · wording {wording}" if wording != "base" else "")]
    if pack.note:
        lines.append(pack.note)
    lines = [part for line in lines for part in _wrap_prefixed("", line, width)]
    side = width >= SIDE_BY_SIDE_MIN_WIDTH
    indent = "    "
    turns = [turn] if turn is not None else list(range(1, run["n_turns"] + 1))
    for t in turns:
        lines += ["", f"── turn {t}/{run['n_turns']} ".ljust(width, "─")]
        if pack.events:
            lines += _wrap_prefixed("event: ", pack.events[t - 1], width)
        played = [idx for idx in sorted(agents) if (t, idx) in utterances]
        if not played:
            lines.append("(not played yet: rerun the study's command to resume it)")
            continue
        for idx in played:
            persona, aligned, individuated = agents[idx]
            channels = utterances[(t, idx)]
            text, status, error = channels.get("talk", ("", "missing", None))
            marks = ["aligned" if aligned else "not aligned", *(["individuated"] if individuated else [])]
            header = f"#{idx} {pack.names.get(persona, persona)} · {' · '.join(marks)}"
            if status != "ok":
                header += f" · [{status}{': ' + error if error else ''}]"
            lines += ["", *_wrap_prefixed("", header, width)]
            monologue = channels.get("monologue", ("", status, error))[0]
            if side:
                lines += _side_by_side(text, monologue, width, indent)
            else:
                lines += _block("talk:", text, width, indent) + _block("monologue:", monologue, width, indent)
            if "probe" in channels:
                probe_text, probe_status, probe_error = channels["probe"]
                label = "probe:" if probe_status == "ok" else f"probe [{probe_status}: {probe_error or ''}]:"
                lines += _block(label, probe_text, width, indent)
    return "\n".join(lines)


def _wrap_prefixed(prefix: str, text: str, width: int) -> list[str]:
    from analysis.display import wrap

    body = wrap(text, width - len(prefix))
    return [prefix + body[0], *(" " * len(prefix) + line for line in body[1:])]
