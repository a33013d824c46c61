"""``backfire validate STUDY``: check a study and every pack it needs, spending nothing."""

from __future__ import annotations

import argparse
import csv
from pathlib import Path
from typing import Any

from cli._common import add_check_endpoints_argument

PDI_SEED = Path(__file__).resolve().parents[1] / "models_dbt" / "seeds" / "hofstede_power_distance.csv"


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("validate", help="check a study file and its language packs")
    parser.add_argument("study", help="path of a study YAML, e.g. studies/demo.yaml")
    add_check_endpoints_argument(parser)
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    from core.errors import BackfireError, LanguagePackError, combine
    from core.study import load_study
    from data_contracts.content import check_languages
    from scoring import check_scorers
    from simulation.content import missing_languages
    from simulation.stages import build_design, check_endpoints, load_study_content, preflight_endpoints

    study = load_study(args.study)  # every mistake of the file itself at once
    errors: list[BackfireError] = []  # then every pack, model and scorer problem at once
    missing = missing_languages(study.design.languages)
    problems = [] if missing else check_languages(study.design.languages)
    if missing:
        errors.append(LanguagePackError(f"missing language packs: {', '.join(missing)}", file=args.study,
                                        field="design.languages",
                                        fix="add simulation/languages/<code>/ with pack.yaml, lexicon.yaml, "
                                            "lexicon_tests.yaml and (every language but en) equivalence.yaml "
                                            "for each (docs/add-a-language.md), or remove them from the study"))
    elif problems:
        errors.append(LanguagePackError("content contract failed:\n  " + "\n  ".join(problems),
                                        fix="correct the packs named above"))
    else:
        try:
            load_study_content(study, args.study)
        except BackfireError as exc:
            errors.append(exc)
    for check in (check_endpoints, lambda s, src: check_scorers(s.scorers, src)):
        try:
            check(study, args.study)
        except BackfireError as exc:
            errors.append(exc)
    if not errors and args.check_endpoints:
        try:
            preflight_endpoints(study, args.study)
        except BackfireError as exc:
            errors.append(exc)
    if errors:
        raise combine(errors)
    runs, _ = build_design(study)
    calls = sum(r.n_agents * r.n_turns for r in runs)
    backends = sorted({m.backend for m in study.models})
    print(f"ok: {args.study}: study '{study.name}', {len(runs)} runs, {calls} model calls, "
          f"languages {', '.join(study.design.languages)}, backends {', '.join(backends)}"
          + ("; endpoints answered" if args.check_endpoints else ""))
    for warning in study_warnings(study):
        print(f"warning: {warning}")
    return 0


def study_warnings(study: Any, pdi_seed: Path = PDI_SEED) -> list[str]:
    """Gaps that do not stop a run but silently empty a result: a model scorer that abstains on a language
    without hypotheses, a language missing from the PDI seed (the report then shows ``PDI -``)."""
    from scoring.zero_shot import hypotheses

    warnings: list[str] = []
    languages = list(study.design.languages)
    spec = hypotheses()
    tables = {"zero-shot": set(spec["hypotheses"]),
              "judge": set(spec["hypotheses"]) & set(spec.get("judge_instruction", {}))}
    for scorer in sorted({s.name for s in study.scorers} & set(tables)):
        if missing := [lang for lang in languages if lang not in tables[scorer]]:
            warnings.append(f"scorers: the {scorer} scorer has no hypotheses for {', '.join(missing)}, so it "
                            f"abstains on them; add them under hypotheses:"
                            f"{' and judge_instruction:' if scorer == 'judge' else ''} in scoring/hypotheses.yaml "
                            f"(docs/add-a-language.md)")
    with pdi_seed.open(encoding="utf-8", newline="") as handle:
        seeded = {row["language"] for row in csv.DictReader(handle)}
    if missing := [lang for lang in languages if lang not in seeded]:
        warnings.append(f"design.languages: no Power Distance Index for {', '.join(missing)}, so the report "
                        f"shows 'PDI -' and marts.language_pdi leaves them out; add a row to "
                        f"models_dbt/seeds/hofstede_power_distance.csv (docs/add-a-language.md)")
    return warnings
