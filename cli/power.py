"""``backfire power``: replicates per cell needed to detect an alignment effect, from synthetic runs."""

from __future__ import annotations

import argparse

from cli._common import positive_int


def _replicates(value: str) -> tuple[int, ...]:
    try:
        counts = tuple(sorted({int(v) for v in value.split(",") if v.strip()}))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{value!r}: expected whole numbers such as 5,10,15") from exc
    if not counts or counts[0] < 2:
        raise argparse.ArgumentTypeError("replicate counts must be 2 or more (a variance needs two runs per arm)")
    return counts


def _at_least_two(value: str) -> int:
    number = positive_int(value)
    if number < 2:
        raise argparse.ArgumentTypeError("a pool needs 2 or more runs to have a spread")
    return number


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("power", help="simulated power against replicates per cell, N for 80%% power, cost")
    effect = parser.add_mutually_exclusive_group(required=True)
    effect.add_argument("--effect", type=float, help="standardized effect to detect (Hedges' g of CPI, e.g. 0.77)")
    effect.add_argument("--planted", action="store_true",
                        help="use the effect the synthetic backend plants for --language and --model")
    parser.add_argument("--alpha", type=float, default=0.05)
    parser.add_argument("--language", default="en", help="the cell's language (its pack and planted profile)")
    parser.add_argument("--model", default="synthetic-power",
                        help="synthetic profile name (see synthetic_effects.yaml)")
    parser.add_argument("--replicates", type=_replicates, default=None, help="runs per arm to try (default "
                                                                             "3,5,8,10,15,20,30,40)")
    parser.add_argument("--cells", type=positive_int, default=1,
                        help="cells of the study (languages x models): multiplies calls and cost")
    parser.add_argument("--pool-runs", type=_at_least_two, default=60, help="synthetic runs simulated per arm pool")
    parser.add_argument("--simulations", type=positive_int, default=2000, help="resampled studies per count")
    parser.add_argument("--n-agents", type=positive_int, default=10)
    parser.add_argument("--n-turns", type=positive_int, default=15)
    parser.add_argument("--price-in", type=float, default=0.00015, help="USD per 1k input tokens (default: "
                                                                       "gpt-4o-mini's list price)")
    parser.add_argument("--price-out", type=float, default=0.0006, help="USD per 1k output tokens")
    parser.add_argument("--target", type=float, default=0.8, help="power to reach (default 0.8)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the pool and of the resampling")
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    import time

    from analysis.power import DEFAULT_REPLICATES, power_table
    from analysis.tables import render_table
    from core.errors import StudyConfigError
    from orchestration.power_pool import simulate_pool

    if not 0 < args.alpha < 1:
        raise StudyConfigError(f"--alpha {args.alpha} is not between 0 and 1", field="--alpha", fix="e.g. 0.05")
    if not 0 < args.target < 1:
        raise StudyConfigError(f"--target {args.target} is not between 0 and 1", field="--target", fix="e.g. 0.8")
    if args.price_in < 0 or args.price_out < 0:
        raise StudyConfigError("prices cannot be negative", field="--price-in/--price-out",
                               fix="give USD per 1k tokens, e.g. --price-in 0.00015")
    started = time.perf_counter()
    shares, runs_per_share = ((0.0, 1.0), args.pool_runs) if args.planted else ((0.0,), 2 * args.pool_runs)
    pool = simulate_pool(args.language, args.model, shares=shares, runs_per_share=runs_per_share,
                         n_agents=args.n_agents, n_turns=args.n_turns, seed=args.seed)
    rows, size = power_table(pool, args.language, effect=args.effect, alpha=args.alpha,
                             replicates=args.replicates or DEFAULT_REPLICATES, simulations=args.simulations,
                             n_agents=args.n_agents, n_turns=args.n_turns, price_in=args.price_in,
                             price_out=args.price_out, seed=args.seed)
    source = "planted by the synthetic backend, estimated" if args.planted else "target"
    print(f"power to detect g = {size:+.3f} ({source}) in {args.language}, alpha {args.alpha}, "
          f"{args.simulations} resampled studies per row from {args.pool_runs}-run synthetic pools, seed {args.seed}")
    table = [(r.replicates, 2 * r.replicates, r.power_ci, r.power_t, r.analytic_power, r.calls_per_cell * args.cells,
              r.cost_per_cell_usd * args.cells) for r in rows]
    print(render_table(("replicates per arm", "runs per cell", "power (CI)", "power (t test)", "analytic t",
                        f"calls ({args.cells} cells)", "cost USD"), table))
    reached = next((r for r in rows if r.power_ci >= args.target), None)
    if reached is None:
        print(f"\n{args.target:.0%} power is not reached within {rows[-1].replicates} replicates per arm: try more "
              "(--replicates) or a larger effect")
    else:
        print(f"\nN for {args.target:.0%} power: {reached.replicates} replicates per arm ({2 * reached.replicates} "
              f"runs per cell, {reached.calls_per_cell * args.cells} calls, about "
              f"${reached.cost_per_cell_usd * args.cells:.2f} at ${args.price_in}/1k in, ${args.price_out}/1k out)")
    print(f"({time.perf_counter() - started:.1f} s; power (CI) = the {1 - args.alpha:.0%} CI of g excludes 0 on the "
          "effect's side: at alpha 0.05 the rule of marts.backfire_by_language)")
    return 0
