"""``backfire check``: every data contract on an existing warehouse, with a readable report and an exit code."""

from __future__ import annotations

import argparse
from pathlib import Path

from cli._common import add_db_argument, comma_list


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("check", help="run every stage contract (and the marts' dbt tests) on a warehouse; "
                                          "exit 1 when one fails")
    parser.add_argument("--studies", type=comma_list, help="studies to check (default: every study in raw.runs)")
    parser.add_argument("--skip-dbt", action="store_true",
                        help="skip the dbt tests of the staging and mart models (they cover every study)")
    add_db_argument(parser)
    parser.set_defaults(handler=handle)


def _dbt_tests(db_path: Path) -> tuple[bool, str]:
    """``dbt test`` on the warehouse: the marts' gates (uniqueness, ranges, accepted values, unit tests)."""
    from orchestration.dbt.project import run_dbt

    done = run_dbt(["test", "--quiet", "--no-use-colors"], db_path)
    return done.returncode == 0, (done.stdout + done.stderr).strip()


def handle(args: argparse.Namespace) -> int:
    from analysis.tables import render_table
    from core.errors import WarehouseError
    from data_contracts.warehouse_check import check_study
    from orchestration.dbt.project import mart_models
    from warehouse.connection import connect, resolve_db_path, table_exists

    db_path = resolve_db_path(args.db)
    rows: list[tuple[str, str, int | None, int | None, str]] = []
    failures: list[str] = []
    warnings: list[str] = []
    with connect(args.db, read_only=True) as con:
        present = [r[0] for r in con.execute("select distinct study from raw.runs order by 1").fetchall()]
        studies = args.studies or present
        unknown = sorted(set(studies) - set(present))
        if unknown:
            raise WarehouseError(f"no runs of {', '.join(unknown)} in {db_path}",
                                 fix=f"check one of: {', '.join(present) or 'none (run a study first)'}")
        for study in studies:
            for name, result in check_study(con, study):
                verdict = "FAILED" if not result.success else "warning" if result.warnings else "ok"
                rows.append((study, name, result.n_rows, result.n_expectations, verdict))
                failures += [f"{study} {name}: {line}" for line in result.failures]
                warnings += [f"{study} {name}: {line}" for line in result.warnings]
        missing_marts = [m for m in mart_models() if not table_exists(con, "marts", m)]
    skipped = ""
    if missing_marts and not args.skip_dbt:  # the tests would only report the missing relations, dozens of lines
        rows.append(("(all)", "dbt tests (staging, marts)", None, None, "skipped"))
        if len(missing_marts) == len(mart_models()):
            what = "the warehouse has no marts yet (marts.run_metrics and the rest: the run failed or stopped " \
                   "before dbt built them)"
        else:
            what = (f"{len(missing_marts)} of {len(mart_models())} marts are not built ("
                    + ", ".join(f"marts.{m}" for m in missing_marts[:3]) + (", ..." if len(missing_marts) > 3 else "")
                    + ")")
        skipped = (f"dbt tests skipped: {what}; the stage contracts above checked the raw tables. "
                   "Fix: run the study (backfire run STUDY; it resumes), then check again.")
    elif not args.skip_dbt:
        passed, output = _dbt_tests(db_path)
        rows.append(("(all)", "dbt tests (staging, marts)", None, None, "ok" if passed else "FAILED"))
        if not passed:
            failures += [f"dbt: {line}" for line in output.splitlines() if line.strip()][-40:]
    print(render_table(("study", "contract", "rows", "expectations", "result"), rows))
    print(f"\nwarehouse: {db_path}")
    if skipped:
        print(skipped)
    if warnings:  # results to read with care; they do not fail the check
        print(f"\n{len(warnings)} warnings:", *warnings, sep="\n  ")
    if failures:
        print(f"\n{len(failures)} failure lines:", *failures, sep="\n  ")
        return 1
    print("every contract passed" + (" (dbt tests skipped, see above)" if skipped else ""))
    return 0
