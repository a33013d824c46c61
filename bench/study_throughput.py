"""Throughput of a whole study run, the real CLI end to end, against a local endpoint with a fixed latency.

Issue 18: the call path reaches ~90% of the endpoint bound (``bench/throughput.py``), but ``backfire run`` on
Study 2 does not, because languages play one after another. This script measures what a user gets: for each
scenario it starts ``bench/throughput._serve`` (every answer after ``--latency-ms``; the server counts the
window from its first completion request to its last answer, the completions and the most in flight at once),
then runs ``backfire run STUDY --backend openai --base-url ... --concurrency C --replicates R --ephemeral``
as a subprocess in a temporary folder with a fresh warehouse, and prints calls/s over the server's window
against the bound (concurrency / latency), the client's CPU per call (user + sys of the CLI's whole process
tree, from ``RUSAGE_CHILDREN``) and its peak RSS (summed over the tree, sampled every 100 ms). It then runs the
study as written (synthetic backend, paper scale) through the whole pipeline per scenario.

A scenario is ``NAME[:ENV=V,ENV2=V2[:EXTRA ARGS]]``: environment for the CLI and arguments added to its
command line. Defaults: ``before`` (``BACKFIRE_LAYOUT=single``, ``--parallel 1``) and ``after`` (defaults). A
scenario whose flag ``backfire run --help`` does not list, or whose ``BACKFIRE_*`` variable no module of this
checkout reads, is skipped with the reason; ``--scenario today`` passes nothing new and runs on any checkout.

    .venv/bin/python bench/study_throughput.py [--latency-ms 200] [--concurrency 128] [--replicates 3]
        [--scenario NAME[:ENV=V,...[:ARGS]]]... [--extra-args "--languages en,ja"] [--skip-synthetic]
        [--synthetic-replicates N] [--study studies/study2.yaml]
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.metadata
import multiprocessing
import os
import platform
import re
import resource
import shlex
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

DEFAULT_SCENARIOS = ("before:BACKFIRE_LAYOUT=single:--parallel 1", "after")
SAMPLE_EVERY_S = 0.1
NO_FIDELITY_FLOOR = ("--min-language-fidelity", "0")
"""The server answers in English for every language; the language-fidelity floor would fail every other
language's scores contract, which is not what is measured here."""


@dataclass(frozen=True)
class Scenario:
    name: str
    env: dict[str, str] = field(default_factory=dict)
    args: tuple[str, ...] = ()

    def describe(self) -> str:
        env = " ".join(f"{k}={v}" for k, v in self.env.items())
        return " ".join(part for part in (env, shlex.join(self.args)) if part) or "(defaults)"


def parse_scenario(text: str) -> Scenario:
    """``NAME[:ENV=V,ENV2=V2[:EXTRA ARGS]]``; the arguments are split as a shell would."""
    name, _, rest = text.partition(":")
    env_text, _, args_text = rest.partition(":")
    if not re.fullmatch(r"[\w.-]+", name):
        raise argparse.ArgumentTypeError(f"scenario {text!r}: name {name!r} must be letters, digits, '_', '.', '-'. "
                                         "Fix: --scenario NAME:ENV=V,ENV2=V2:--flag value")
    env: dict[str, str] = {}
    for item in filter(None, (part.strip() for part in env_text.split(","))):
        key, sep, value = item.partition("=")
        if not sep or not re.fullmatch(r"[A-Za-z_]\w*", key):
            raise argparse.ArgumentTypeError(f"scenario {text!r}: {item!r} is not ENV=VALUE. "
                                             "Fix: --scenario NAME:ENV=V,ENV2=V2:--flag value")
        env[key] = value
    return Scenario(name, env, tuple(shlex.split(args_text)))


def known_run_flags(env: dict[str, str]) -> set[str]:
    """The options ``backfire run --help`` lists in this checkout."""
    help_text = subprocess.run([sys.executable, "-m", "cli.main", "run", "--help"], env=env, cwd=REPO,
                               capture_output=True, text=True, check=True).stdout
    return set(re.findall(r"(?<![\w-])--[a-z][\w-]*", help_text))


def is_read_by_the_code(variable: str) -> bool:
    """Some module of this checkout (outside bench/ and tests/) names the environment variable."""
    for path in REPO.rglob("*.py"):
        parts = path.relative_to(REPO).parts
        if parts[0] in {"bench", "tests", ".venv"} or any(part.startswith(".") for part in parts):
            continue
        if variable in path.read_text(encoding="utf-8", errors="replace"):
            return True
    return False


def unsupported(scenario: Scenario, flags: set[str]) -> list[str]:
    """Why this checkout cannot run the scenario as meant (empty: it can)."""
    reasons = [f"{arg.split('=', 1)[0]} is not a `backfire run` option in this checkout"
               for arg in scenario.args if arg.startswith("--") and arg.split("=", 1)[0] not in flags]
    reasons += [f"{name} is read by no module of this checkout (it would change nothing)"
                for name in scenario.env if name.startswith("BACKFIRE_") and not is_read_by_the_code(name)]
    return reasons


def become_subreaper() -> bool:
    """Adopt the CLI's orphans (Linux ``PR_SET_CHILD_SUBREAPER``), so they can be waited for and their CPU counted:
    a process the CLI does not wait for (e.g. a multiprocessing forkserver and the workers it reaped) would
    otherwise be reparented to init and its time lost from ``RUSAGE_CHILDREN``."""
    if not sys.platform.startswith("linux"):
        return False
    import ctypes

    pr_set_child_subreaper = 36
    return ctypes.CDLL(None, use_errno=True).prctl(pr_set_child_subreaper, 1, 0, 0, 0) == 0


def _own_children(exclude: set[int]) -> list[Any]:
    import psutil

    return [child for child in psutil.Process().children() if child.pid not in exclude]


class TreeRss(threading.Thread):
    """Peak of the summed RSS of this script's children (other than ``exclude``, e.g. the server) and all their
    descendants, adopted orphans included, sampled every 100 ms. Pages shared between processes (fork,
    forkserver) count once per process, so the sum is an upper bound."""

    def __init__(self, exclude: set[int]) -> None:
        super().__init__(daemon=True)
        self.exclude, self.peak_bytes, self._stop_event = exclude, 0, threading.Event()

    def run(self) -> None:
        import psutil

        while not self._stop_event.is_set():
            total = 0
            for root in _own_children(self.exclude):
                with contextlib.suppress(psutil.Error):  # gone between listing and reading
                    for process in [root, *root.children(recursive=True)]:
                        with contextlib.suppress(psutil.Error):
                            total += process.memory_info().rss
            self.peak_bytes = max(self.peak_bytes, total)
            self._stop_event.wait(SAMPLE_EVERY_S)

    def stop(self) -> int:
        self._stop_event.set()
        self.join()
        return self.peak_bytes


def _reap_adopted(exclude: set[int], grace_s: float = 30.0) -> None:
    """Wait for the orphans this script adopted, so their CPU lands in ``RUSAGE_CHILDREN``; kill those still
    running after ``grace_s`` (they are the CLI's leftovers) and say so."""
    deadline = time.monotonic() + grace_s
    while pending := _own_children(exclude):
        for child in pending:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(child.pid, 0 if time.monotonic() > deadline else os.WNOHANG)
        if time.monotonic() > deadline:
            for child in _own_children(exclude):
                print(f"  warning: process {child.pid} the CLI left behind still ran {grace_s:.0f} s after it; "
                      "killed", file=sys.stderr)
                os.kill(child.pid, signal.SIGKILL)
                with contextlib.suppress(ChildProcessError):
                    os.waitpid(child.pid, 0)
        else:
            time.sleep(SAMPLE_EVERY_S)


@dataclass(frozen=True)
class Measured:
    returncode: int
    wall_s: float
    cpu_s: float
    peak_rss_mb: float
    log: str


def run_measured(command: list[str], env: dict[str, str], cwd: Path, timeout_s: float) -> Measured:
    """Run the command to its end. CPU is the ``RUSAGE_CHILDREN`` delta: the child and every descendant that was
    waited for, by its parent or, as an adopted orphan, by this script (the server, also a child, is reaped only
    after this returns)."""
    log_path = cwd / "cli.log"
    exclude = {child.pid for child in _own_children(set())}  # the server and anything else already running
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True)
        sampler = TreeRss(exclude)
        sampler.start()
        try:
            returncode = process.wait(timeout=timeout_s)
            wall = time.perf_counter() - started
        except BaseException:  # timeout or Ctrl-C: stop the CLI's whole tree, which this script started
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            raise
        finally:
            _reap_adopted(exclude)  # while the sampler still counts them
            peak = sampler.stop()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Measured(returncode, wall, cpu, peak / 2**20, log_path.read_text(encoding="utf-8", errors="replace"))


def stored_runs(db: Path) -> int | None:
    import duckdb

    try:
        with duckdb.connect(str(db), read_only=True) as con:
            row = con.execute("select count(*) from raw.runs").fetchone()
    except duckdb.Error:
        return None
    return int(row[0]) if row else None


def cli_env(scenario: Scenario) -> dict[str, str]:
    env = {**os.environ, **scenario.env}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, (str(REPO), os.environ.get("PYTHONPATH"))))
    env.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "False")
    return env


@contextlib.contextmanager
def _workdir(args: argparse.Namespace, scenario: Scenario, kind: str) -> Iterator[str]:
    """A fresh folder for one CLI run: temporary, or kept under ``--keep-in`` (warehouse, CLI log, dbt logs)."""
    if args.keep_in is None:
        with tempfile.TemporaryDirectory(prefix="study-throughput-") as tmp:
            yield tmp
        return
    folder = args.keep_in / f"{scenario.name}-{kind}"
    if folder.exists():
        sys.exit(f"--keep-in: {folder} exists. Fix: remove it or name another folder")
    folder.mkdir(parents=True)
    yield str(folder)


def report_failure(label: str, measured: Measured) -> None:
    tail = "\n".join(measured.log.splitlines()[-25:])
    print(f"\n{label}: exit status {measured.returncode}; the CLI's last lines:\n{tail}\n", file=sys.stderr)


def _serve_until_terminated(port: int, latency_s: float) -> None:
    """The server, with SIGTERM's default action back (the fork inherits this script's handler)."""
    from throughput import _serve

    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    _serve(port, latency_s)


def openai_row(args: argparse.Namespace, scenario: Scenario, extra: list[str]) -> str:
    from throughput import _free_port, fetch_stats

    port = _free_port()
    server = multiprocessing.Process(target=_serve_until_terminated, args=(port, args.latency_ms / 1000),
                                     daemon=True)
    server.start()
    time.sleep(0.5)
    try:
        with _workdir(args, scenario, "openai") as tmp:
            db = Path(tmp) / "warehouse.duckdb"
            command = [sys.executable, "-m", "cli.main", "run", str(args.study), "--db", str(db), "--ephemeral",
                       "--backend", "openai", "--base-url", f"http://127.0.0.1:{port}/v1",
                       "--concurrency", str(args.concurrency), "--replicates", str(args.replicates),
                       *NO_FIDELITY_FLOOR, *scenario.args, *extra]
            measured = run_measured(command, cli_env(scenario), Path(tmp), args.timeout_s)
            runs = stored_runs(db)
        stats = fetch_stats(port)
    finally:
        server.terminate()
        server.join()
    if measured.returncode:
        report_failure(f"{scenario.name} (openai)", measured)
    calls = int(stats["completions"] or 0)
    first, last = stats["first_request_at"], stats["last_answer_at"]
    window = (last - first) if first is not None and last is not None else 0.0
    rate = calls / window if window > 0 else 0.0
    bound = args.concurrency / (args.latency_ms / 1000)
    cpu_ms = measured.cpu_s * 1000 / calls if calls else float("nan")
    status = "" if measured.returncode == 0 else f"  FAILED (exit {measured.returncode})"
    return (f"{scenario.name:>10} {runs if runs is not None else '-':>5} {calls:>7} {window:>8.1f} {rate:>8.1f} "
            f"{bound:>6.0f} {rate / bound:>8.0%} {int(stats['max_in_flight'] or 0):>7} {measured.wall_s:>7.1f} "
            f"{cpu_ms:>9.2f} {measured.peak_rss_mb:>8.0f}{status}")


def synthetic_row(args: argparse.Namespace, scenario: Scenario, extra: list[str]) -> str:
    with _workdir(args, scenario, "synthetic") as tmp:
        db = Path(tmp) / "warehouse.duckdb"
        replicates = ["--replicates", str(args.synthetic_replicates)] if args.synthetic_replicates else []
        command = [sys.executable, "-m", "cli.main", "run", str(args.study), "--db", str(db), "--ephemeral",
                   *replicates, *scenario.args, *extra]
        measured = run_measured(command, cli_env(scenario), Path(tmp), args.timeout_s)
        runs = stored_runs(db)
    if measured.returncode:
        report_failure(f"{scenario.name} (synthetic)", measured)
    status = "" if measured.returncode == 0 else f"  FAILED (exit {measured.returncode})"
    return (f"{scenario.name:>10} {runs if runs is not None else '-':>5} {measured.wall_s:>7.1f} "
            f"{measured.cpu_s:>7.1f} {measured.peak_rss_mb:>8.0f}{status}")


def machine() -> str:
    """Enough to attribute the figures: cores, CPU model, memory, versions, commit, load."""
    cpuinfo = Path("/proc/cpuinfo").read_text(encoding="utf-8") if Path("/proc/cpuinfo").exists() else ""
    model = next((line.split(":", 1)[1].strip() for line in cpuinfo.splitlines() if line.startswith("model name")),
                 platform.processor() or "unknown CPU")
    meminfo = Path("/proc/meminfo").read_text(encoding="utf-8") if Path("/proc/meminfo").exists() else ""
    mem_kb = next((int(line.split()[1]) for line in meminfo.splitlines() if line.startswith("MemTotal:")), 0)
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True,
                            text=True).stdout.strip() or "unknown"
    dirty = subprocess.run(["git", "status", "--porcelain"], cwd=REPO, capture_output=True, text=True).stdout
    versions = ", ".join(f"{name} {importlib.metadata.version(name)}" for name in ("duckdb", "dagster"))
    load = " ".join(f"{value:.1f}" for value in os.getloadavg())
    return (f"machine: {os.cpu_count()} cores ({usable} usable), {model}, {mem_kb / 2**20:.0f} GiB; "
            f"Python {platform.python_version()}, {versions}; commit {commit}{' (modified)' if dirty else ''}; "
            f"load average {load} at start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--study", type=Path, default=REPO / "studies" / "study2.yaml")
    parser.add_argument("--latency-ms", type=float, default=200.0)
    parser.add_argument("--concurrency", type=int, default=128)
    parser.add_argument("--replicates", type=int, default=3, help="replicates per cell of the openai runs")
    parser.add_argument("--scenario", dest="scenarios", action="append", type=parse_scenario,
                        help="NAME[:ENV=V,ENV2=V2[:EXTRA ARGS]], repeatable (default: "
                             + " and ".join(repr(s) for s in DEFAULT_SCENARIOS) + "); 'today' passes nothing new")
    parser.add_argument("--extra-args", default="", help="arguments added to every `backfire run`, e.g. "
                                                         "'--languages en,ja'")
    parser.add_argument("--skip-synthetic", action="store_true", help="leave out the synthetic paper-scale runs")
    parser.add_argument("--synthetic-replicates", type=int, default=None,
                        help="replicates of the synthetic runs (default: the study's own; 15 in study2.yaml)")
    parser.add_argument("--keep-in", type=Path, default=None,
                        help="keep each run's folder (warehouse, cli.log) under this folder instead of deleting it")
    parser.add_argument("--timeout-s", type=float, default=7200.0, help="give up on one CLI run after this long")
    args = parser.parse_args()
    # SIGTERM (e.g. from `timeout`) unwinds like Ctrl-C, so run_measured stops the CLI's tree: it runs in its own
    # session and would otherwise outlive this script
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        import psutil  # noqa: F401  (the RSS sampler's; checked before any run)
    except ImportError:
        sys.exit("bench/study_throughput.py needs psutil to sample RSS. Fix: pip install -e '.[dev]'")
    args.study = args.study.resolve()
    is_subreaper = become_subreaper()
    scenarios: list[Scenario] = args.scenarios or [parse_scenario(text) for text in DEFAULT_SCENARIOS]
    extra = shlex.split(args.extra_args)

    print(machine())
    flags = known_run_flags(cli_env(Scenario("help")))
    bad_extra = [arg for arg in extra if arg.startswith("--") and arg.split("=", 1)[0] not in flags]
    if bad_extra:
        sys.exit(f"--extra-args: {', '.join(bad_extra)}: not a `backfire run` option in this checkout. "
                 "Fix: see `backfire run --help`")
    runnable: list[Scenario] = []
    for scenario in scenarios:
        reasons = unsupported(scenario, flags)
        if reasons:
            print(f"scenario {scenario.name} ({scenario.describe()}): SKIPPED: {'; '.join(reasons)}")
        else:
            print(f"scenario {scenario.name}: {scenario.describe()}")
            runnable.append(scenario)
    if not runnable:
        sys.exit("no scenario can run on this checkout. Fix: --scenario today")

    bound = args.concurrency / (args.latency_ms / 1000)
    print(f"\nopenai backend: {args.study.name}, --replicates {args.replicates} --concurrency {args.concurrency}, "
          f"a local server answering every call after {args.latency_ms:.0f} ms (bound {bound:.0f} calls/s)"
          + (f"; extra arguments: {shlex.join(extra)}" if extra else ""))
    print(f"{'scenario':>10} {'runs':>5} {'calls':>7} {'window s':>8} {'calls/s':>8} {'bound':>6} {'of bound':>8} "
          f"{'max in':>7} {'wall s':>7} {'CPU ms/c':>9} {'RSS MB':>8}", flush=True)
    for scenario in runnable:
        print(openai_row(args, scenario, extra), flush=True)

    if not args.skip_synthetic:
        replicates = args.synthetic_replicates or "the study's"
        print(f"\nsynthetic backend, whole pipeline: {args.study.name} as written, {replicates} replicates")
        print(f"{'scenario':>10} {'runs':>5} {'wall s':>7} {'CPU s':>7} {'RSS MB':>8}", flush=True)
        for scenario in runnable:
            print(synthetic_row(args, scenario, extra), flush=True)

    print(f"\nwindow = the server's first completion request to its last answer; calls/s = calls / window; "
          f"max in = most requests in flight at the server; wall = the whole command; CPU = user + sys of the CLI's "
          f"process tree (RUSAGE_CHILDREN{', orphans adopted' if is_subreaper else ''}); RSS = peak of the "
          f"tree's summed RSS (shared pages counted per process). "
          f"load average {' '.join(f'{v:.1f}' for v in os.getloadavg())} at the end")


if __name__ == "__main__":
    main()
