"""``backfire validate STUDY``: check a study and every pack it needs, spending nothing."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("validate", help="check a study file and its language packs")
    parser.add_argument("study", help="path of a study YAML, e.g. studies/demo.yaml")
    parser.add_argument("--check-endpoints", action="store_true",
                        help="also probe each OpenAI-compatible endpoint once (GET /models): is it up, is the key "
                             "good, does it serve the model")
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
                                        fix="add simulation/languages/<code>/pack.yaml and lexicon.yaml for each "
                                            "(docs/add-a-language.md), or remove them from the study"))
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
    return 0
