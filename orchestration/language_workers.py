"""The CLI's language runs side by side: each language partition is its own Dagster run, in a worker process.

``execute_in_process`` runs one run at a time in its process, so the launcher starts up to ``parallel`` worker
processes, as a backfill would start runs: each executes the language job for one partition on the same
instance and sends back a plain ``RunOutcome``. Dagster still decides step order and pools; the workers only
start runs. Workers fork from a forkserver that has imported the definitions once (about 5 s of imports on two
cores), and each task brings the caller's environment and working directory, which the forkserver froze when it
started. Progress lines travel back through a queue, so the command prints them as they come.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import logging.handlers
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from multiprocessing.managers import SyncManager
from pathlib import Path
from typing import Any

from orchestration.launch import RunOutcome, execute_job, outcome_of
from simulation.progress import PROGRESS_LOGGER, current_command

COMMAND_CHECK_S = 0.5
PRELOAD = ["orchestration.worker_preload"]
"""Imported once by the forkserver; every worker starts with it (the definitions, and Great Expectations warm)."""


def worker_log(log_path: Path, language: str) -> Path:
    """A language's own log while it runs (the command's log gets it appended when it ends)."""
    return log_path.with_name(f"{log_path.stem}.{language}{log_path.suffix}")


@functools.cache
def _definitions(languages: tuple[str, ...]) -> Any:
    from orchestration.definitions import definitions_for

    return definitions_for(list(languages))


@functools.cache
def _instance(home: str | None) -> Any:
    """The command's persistent instance, or (``--ephemeral``) one in memory, kept for the worker's life."""
    from dagster import DagsterInstance

    return DagsterInstance.from_config(home) if home is not None else DagsterInstance.ephemeral()


_SHARED_TURNS: Any = None
"""The command's turns per language (a manager's dict), set in each worker by ``_init``."""


def _die_with_the_command(pid: int) -> None:
    """A worker (or the progress manager's server) must not outlive the command (a SIGKILLed ``backfire run``
    would leave it playing and paying).
    Its parent is the forkserver, which lives as long as any worker does (every child holds the forkserver's
    liveness pipe), so a parent-death signal never fires: a thread checks the command's process instead, and
    kills the worker as the command was killed."""
    def watch() -> None:
        while True:
            time.sleep(COMMAND_CHECK_S)
            if not _alive(pid):
                os.kill(os.getpid(), signal.SIGKILL)

    threading.Thread(target=watch, name="command-watch", daemon=True).start()


def _alive(pid: int) -> bool:
    """Whether the process runs: a killed command its own parent has not reaped yet is a zombie, not alive."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: alive
        return True
    with contextlib.suppress(OSError):  # Linux: the state after the command name
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        return state != "Z"
    return True


def _init(queue: Any, shared_turns: Any, command_pid: int) -> None:
    global _SHARED_TURNS
    _die_with_the_command(command_pid)
    _SHARED_TURNS = shared_turns
    progress = logging.getLogger(PROGRESS_LOGGER.name)
    progress.handlers = [logging.handlers.QueueHandler(queue)]
    progress.setLevel(logging.INFO)
    progress.propagate = False


def _run_language(language: str, job_name: str, config: dict[str, Any], home: str | None,
                  languages: tuple[str, ...],
                  log_path: str, environ: dict[str, str], cwd: str,
                  command: tuple[list[str], int] | None) -> RunOutcome:
    """One language partition's run, in a worker process; ``command``: the command's languages and total turns,
    whose overall count the workers keep in the shared dict."""
    from simulation.progress import command_progress

    os.environ.clear()
    os.environ.update(environ)
    os.chdir(cwd)
    own_log = worker_log(Path(log_path), language)
    own_log.write_text("", encoding="utf-8")
    progress = (command_progress(command[0], command[1], shared_turns=_SHARED_TURNS) if command is not None
                else contextlib.nullcontext())
    with progress:
        result = execute_job(_definitions(languages), _instance(home), job_name, config, language, own_log)
    return outcome_of(result, Path(log_path))


@contextlib.contextmanager
def _forward_progress() -> Iterator[tuple[Any, Any]]:
    """A queue the workers' progress records go into, handed to this process's progress logger as they come,
    and the dict of turns per language they share for the command's overall count. The manager's server is a
    process of its own, forked from the command: it watches the command like the workers do, so a SIGKILLed
    command leaves no server behind (an orphan waiting forever on its socket)."""
    manager = SyncManager()
    manager.start(initializer=_die_with_the_command, initargs=(os.getpid(),))
    queue, shared_turns = manager.Queue(), manager.dict()

    def drain() -> None:
        while (record := queue.get()) is not None:
            PROGRESS_LOGGER.handle(record)

    thread = threading.Thread(target=drain, name="language-progress", daemon=True)
    thread.start()
    try:
        yield queue, shared_turns
    finally:
        queue.put(None)
        thread.join(timeout=5)
        manager.shutdown()


def run_languages(languages: Sequence[str], *, job_name: str, config_for: Callable[[str], dict[str, Any]],
                  home: Path | None, definitions_languages: Sequence[str], log_path: Path, parallel: int,
                  environ: dict[str, str], on_outcome: Callable[[str, RunOutcome], None]) -> None:
    """Run the job once per language, up to ``parallel`` at once, on the persistent instance in ``home`` (None:
    each worker's own in-memory instance), with ``environ``; ``on_outcome`` gets each as it ends (a failed language
    does not stop the others). A worker that dies is reported as that language's failure."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(PRELOAD)
    cwd = os.getcwd()
    current = current_command()
    command = (current.languages, current.total_turns) if current is not None else None
    with _forward_progress() as (queue, shared_turns), ProcessPoolExecutor(
            max_workers=max(1, parallel), mp_context=context, initializer=_init,
            initargs=(queue, shared_turns, os.getpid())) as pool:
        futures: dict[Future[RunOutcome], str] = {
            pool.submit(_run_language, language, job_name, config_for(language), str(home) if home else None,
                        tuple(definitions_languages), str(log_path), environ, cwd, command): language
            for language in languages}
        for future in as_completed(futures):
            language = futures[future]
            try:
                outcome = future.result()
            except Exception as exc:  # the worker died (killed, out of memory) or could not send its result
                outcome = RunOutcome("", False, [f"{language}: its worker process failed ({exc!r}); finished "
                                                 "turns are saved, rerun to resume"], [], [], {})
            _append_log(log_path, language)
            on_outcome(language, outcome)


def _append_log(log_path: Path, language: str) -> None:
    own = worker_log(log_path, language)
    if own.is_file():
        with open(log_path, "a", encoding="utf-8") as log:
            log.write(f"\n=== language {language} ===\n{own.read_text(encoding='utf-8')}")
        own.unlink()
