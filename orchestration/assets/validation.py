"""Scorer validation (``backfire scorers evaluate``): scorers against the gold validation set, written to
``raw.scorer_validation`` and ``raw.scorer_register_errors``. Not part of the study pipeline (its own job):
it reads gold files, not utterances, and a study run never needs it."""

import functools
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
from pydantic import Field

from analysis.tables import render_table
from orchestration.resources import DUCKDB_WRITER_POOL, WarehouseResource
from scoring import Scorer
from scoring.validation import DIFFERENTIAL_MARGIN, F1_WARNING, GOLD_DIR, evaluate_scorer, load_gold
from scoring.validation.evaluate import store_evaluation
from scoring.validation.scorers import default_scorer_specs, evaluation_scorers

SCORER_VALIDATION = dg.AssetKey(["raw", "scorer_validation"])
SCORER_REGISTER_ERRORS = dg.AssetKey(["raw", "scorer_register_errors"])


class ValidationConfig(dg.Config):
    scorers: list[str] | None = Field(
        default=None, description="Scorers to evaluate, each as NAME[:MODEL][?key=value&...] (the lexicon "
                                  "included); default: every registered stance scorer that needs no model.")
    split: str = Field(default="test", description="test (what results are reported on) or dev.")
    languages: list[str] | None = Field(default=None, description="Gold languages to evaluate (default: all).")
    gold_dir: str | None = Field(default=None, description="Folder of <code>.yaml + labels_b/ (default: "
                                                           "scoring/gold).")
    margin: float = Field(default=DIFFERENTIAL_MARGIN, description="Differential error check margin.")


@functools.cache
def cached_evaluation_scorers(specs: tuple[str, ...]) -> list[Scorer]:
    """One build per process: the CLI builds them before Dagster starts, so a bad spec fails first."""
    return evaluation_scorers(specs or None)


@dg.multi_asset(
    specs=[dg.AssetSpec(SCORER_VALIDATION, group_name="scoring", kinds={"python", "duckdb"},
                        description="One row per (scorer, scorer_version, model_id, language, split, gold_hash, "
                                    "breakdown, category): precision, recall, F1, accuracy and kappa against "
                                    "the gold validation set."),
           dg.AssetSpec(SCORER_REGISTER_ERRORS, group_name="scoring", kinds={"python", "duckdb"},
                        description="One row per (scorer, scorer_version, model_id, language, split, gold_hash): "
                                    "the differential error check (refusal/quote/echo registers against the rest).")],
    pool=DUCKDB_WRITER_POOL)
def scorer_validation(context: dg.AssetExecutionContext, config: ValidationConfig,
                      warehouse: WarehouseResource) -> Iterator[dg.MaterializeResult]:
    gold = load_gold(config.languages, Path(config.gold_dir) if config.gold_dir else GOLD_DIR)
    scorers = cached_evaluation_scorers(tuple(config.scorers or default_scorer_specs()))
    with warehouse.writer() as con:
        evaluations = [evaluate_scorer(s, gold, split=config.split, margin=config.margin, con=con) for s in scorers]
        for evaluation in evaluations:
            store_evaluation(con, evaluation)
    f1 = [(e.scorer, r["language"], r["n"], _round(r["f1"]), _round(r["accuracy"]), _round(r["kappa"]),
           "F1 < 0.7" if r["f1"] is None or r["f1"] < F1_WARNING else "")
          for e in evaluations for r in e.validation_rows if r["breakdown"] == "overall"]
    flags = [(e.scorer, r["language"], _round(r["error_rate_sensitive"]), _round(r["error_rate_rest"]),
              _round(r["difference"]), "FLAGGED" if r["flagged"] else "")
             for e in evaluations for r in e.register_rows]
    context.log.info("evaluated %s on the gold %s half of %s", ", ".join(s.name for s in scorers), config.split,
                     ", ".join(gold.languages()))
    yield dg.MaterializeResult(asset_key=SCORER_VALIDATION, metadata={
        "scorers": ", ".join(f"{e.scorer} v{e.scorer_version}" for e in evaluations), "split": config.split,
        "gold_languages": ", ".join(gold.languages()), "rows": sum(len(e.validation_rows) for e in evaluations),
        "languages_below_f1_warning": sum(1 for row in f1 if row[-1]),
        "not_validated": ", ".join(f"{e.scorer}:{code}" for e in evaluations for code in e.abstained_languages)
        or "none",
        "f1_by_language": dg.MetadataValue.md(render_table(
            ["scorer", "language", "n", "F1", "accuracy", "kappa", "warning"], f1, markdown=True))})
    yield dg.MaterializeResult(asset_key=SCORER_REGISTER_ERRORS, metadata={
        "margin": config.margin, "flagged": sum(1 for row in flags if row[-1]),
        "register_errors": dg.MetadataValue.md(render_table(
            ["scorer", "language", "error refusal/quote/echo", "error rest", "difference", "flag"], flags,
            markdown=True))})


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)
