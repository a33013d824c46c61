"""Small synthetic studies and warehouses for tests, and the sizes a study's design implies."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import duckdb

    from core.study import Study

CHANNELS = ("talk", "monologue")
"""Each agent's turn stores one utterance per channel (probe answers are a third, on probe turns only)."""


def small_study_dict(**design: object) -> dict:
    """A quick synthetic study: two languages, two shares, few turns."""
    base = {"languages": ["en", "ja"], "aligned_shares": [0.0, 1.0], "replicates": 2, "n_agents": 10,
            "n_turns": 4}
    base.update(design)
    return {"name": "small", "seed": 7, "design": base, "models": [{"name": "synthetic-test", "backend": "synthetic"}]}


def n_runs(study: Study) -> int:
    """Runs of the grid: languages x models x aligned shares x individuation conditions x wordings x replicates."""
    d = study.design
    return (len(d.languages) * len(study.models) * len(d.aligned_shares) * len(d.individuation) * len(d.wordings)
            * d.replicates)


def n_calls(study: Study) -> int:
    """Model calls of a complete study: one per agent and turn, plus one per agent and probe turn."""
    return n_runs(study) * study.design.n_agents * (study.design.n_turns + len(study.design.probe_turns))


def n_utterances(study: Study) -> int:
    """raw.utterances rows of a complete study: runs x agents x (turns x channels + probe turns)."""
    d = study.design
    return n_runs(study) * d.n_agents * (d.n_turns * len(CHANNELS) + len(d.probe_turns))


def fill_warehouse(con: duckdb.DuckDBPyConnection, **design: object) -> None:
    """Record the packs, design, simulate and score a small synthetic study into ``con``, as the pipeline does."""
    from core.study import parse_study
    from scoring import get_scorer, score_pending
    from simulation.stages import record_content, record_design, simulate_study
    from warehouse.schema import ensure_raw_schema

    ensure_raw_schema(con)
    study = parse_study(small_study_dict(**design), "test study")
    record_content(con, study)
    record_design(con, study)
    simulate_study(con, study)
    score_pending(con, get_scorer("lexicon"))
