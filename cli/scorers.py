"""``backfire scorers evaluate``: scorers against the gold validation set (precision, recall, F1, kappa per
language, category and hard case, and the differential error check), as a Dagster run of
``scorer_validation_job`` that also rebuilds marts.scorer_validation, scorer_register_errors and scorer_coverage.
Exit 0 whatever the F1: a low score is a finding, not an error."""

from __future__ import annotations

import argparse
from pathlib import Path

from cli._common import add_db_argument, add_instance_argument, comma_list

SHOWN = ("language", "n", "f1", "pathology_precision", "pathology_recall", "protective_precision",
         "protective_recall", "accuracy", "kappa", "negated_accuracy", "quoted_accuracy", "n_disagreed", "warning")
HEADERS = ("language", "n", "F1", "P path", "R path", "P prot", "R prot", "acc", "kappa", "acc negated",
           "acc quoted", "A≠B", "warning")


def _margin(value: str) -> float:
    from cli._common import share

    return share(value)


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("scorers", help="validate scorers against the gold-labelled set",
                            description="Scorer validation (docs/metrics.md, Scorer validation).")
    verbs = parser.add_subparsers(dest="scorers_command", required=True, metavar="VERB")
    evaluate = verbs.add_parser(
        "evaluate", help="precision, recall, F1 and kappa of scorers on the gold set, per language",
        description="Scores every gold sentence of the split with each scorer and writes raw.scorer_validation "
                    "and raw.scorer_register_errors, then rebuilds marts.scorer_validation, "
                    "marts.scorer_register_errors and marts.scorer_coverage. Each --scorer is "
                    "NAME[:MODEL][?key=value&...] as `backfire score` takes it, the lexicon included; default: "
                    "every registered scorer that needs no model (the metric-v1 lexicon and any later lexicon). "
                    "Only the test half is reported on; dev is for lexicon work.")
    evaluate.add_argument("--scorer", action="append", metavar="NAME[:MODEL]", help="a scorer (repeatable)")
    evaluate.add_argument("--split", choices=("test", "dev"), default="test", help="gold half (default: test)")
    evaluate.add_argument("--languages", type=comma_list, help="gold languages to evaluate (default: all)")
    evaluate.add_argument("--gold", metavar="DIR", type=Path, default=None,
                          help="gold folder with <code>.yaml and labels_b/ (default: scoring/gold)")
    evaluate.add_argument("--margin", type=_margin, default=None,
                          help="differential error check margin, a share (default: 0.10)")
    add_db_argument(evaluate)
    add_instance_argument(evaluate)
    evaluate.set_defaults(handler=handle_evaluate)


def handle_evaluate(args: argparse.Namespace) -> int:
    from analysis.scorer_validation import f1_rows, register_rows
    from analysis.tables import render_table
    from orchestration.assets.validation import cached_evaluation_scorers
    from orchestration.launch import evaluate_scorers, raise_for_failure
    from scoring.validation import F1_WARNING, GOLD_DIR, load_gold
    from scoring.validation.scorers import default_scorer_specs
    from warehouse.connection import connect, resolve_db_path

    gold = load_gold(args.languages, args.gold or GOLD_DIR)  # a bad gold file fails before anything runs
    specs = tuple(args.scorer or default_scorer_specs())
    scorers = cached_evaluation_scorers(specs)  # every spec checked and every model loaded first
    db_path = resolve_db_path(args.db)
    result = evaluate_scorers(list(specs), db=db_path, split=args.split, languages=args.languages,
                              gold_dir=args.gold, margin=args.margin, ephemeral=args.ephemeral,
                              log_level="INFO" if args.verbose else "CRITICAL")
    raise_for_failure(result)
    evaluated = [(s.name, s.version) for s in scorers]
    with connect(db_path, read_only=True) as con:
        f1 = f1_rows(con, split=args.split, scorers=evaluated)
        registers = register_rows(con, split=args.split, scorers=evaluated)
    print(f"gold set: {len(gold.sentences)} sentences in {len(gold.languages())} languages "
          f"({args.gold or GOLD_DIR}); split {args.split}; F1 = macro F1 of pathology and protective")
    for name, version in evaluated:
        rows = [r for r in f1 if (r["scorer"], r["scorer_version"]) == (name, version)]
        print(f"\n{name} v{version}")
        print(render_table(HEADERS, [tuple(r[c] if c != "warning" else
                                           (f"F1 < {F1_WARNING}" if r["f1_warning"] else "") for c in SHOWN)
                                     for r in rows]))
        below = [r["language"] for r in rows if r["f1_warning"]]
        if below:
            print(f"warning: F1 < {F1_WARNING} in {', '.join(below)}")
        missing = sorted(set(gold.languages()) - {r["language"] for r in rows})
        if missing:
            print(f"not validated (scored no gold sentence): {', '.join(missing)}")
    print("\ndifferential error (refusal / quote / echo registers against the rest; docs/metrics.md)")
    print(render_table(("scorer", "language", "n refusal/quote", "error", "n rest", "error rest", "difference",
                        "95% CI", "flag"),
                       [(r["scorer"], r["language"], r["n_sensitive"], r["error_rate_sensitive"], r["n_rest"],
                         r["error_rate_rest"], r["difference"],
                         "-" if r["ci_low"] is None else f"[{r['ci_low']:.2f}, {r['ci_high']:.2f}]",
                         f"> {r['margin']:g}" if r["flagged"] else "") for r in registers]))
    print(f"\nDagster run: {result.run_id}")
    print(f"warehouse: {db_path} (marts.scorer_validation, marts.scorer_register_errors, marts.scorer_coverage)")
    return 0
