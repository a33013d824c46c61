"""User-facing errors: each names the file, the field, the problem and the fix.

The CLI prints a ``BackfireError`` without a traceback and exits 2; anything else is a bug and keeps its
traceback (an ``InternalError`` reports a bug that happened inside a pipeline run: one line, exit 3, the
traceback in the run's log file).
"""

from __future__ import annotations

from collections.abc import Sequence


class BackfireError(Exception):
    """An error the user can fix; its message says where and how.

    One error may carry the other mistakes found in the same pass (``also``, see ``combine``), so a file with
    four mistakes is fixed in one round: each is rendered on its own line with its own field and fix.
    """

    def __init__(self, message: str, *, file: str | None = None, field: str | None = None,
                 fix: str | None = None) -> None:
        self.file = file
        self.field = field
        self.problem = message
        self.fix = fix
        self.also: tuple[BackfireError, ...] = ()
        super().__init__(self.render())

    @property
    def problems(self) -> tuple[BackfireError, ...]:
        """This error and the others reported with it."""
        return (self, *self.also)

    def render_one(self) -> str:
        where = ": ".join(part for part in (self.file, self.field) if part)
        text = f"{where}: {self.problem}" if where else self.problem
        if self.fix:
            text += f". Fix: {self.fix}"
        return text

    def render(self) -> str:
        if not self.also:
            return self.render_one()
        lines = [e.render_one() for e in self.problems]
        return f"{len(lines)} problems, each with its fix:\n  " + "\n  ".join(lines)


def combine(errors: Sequence[BackfireError]) -> BackfireError:
    """One error to raise for several found in one pass: the first, carrying the rest (flattened)."""
    flat: list[BackfireError] = []
    for problem in (problem for error in errors for problem in error.problems):
        if all(problem.render_one() != seen.render_one() for seen in flat):  # two checks may find the same one
            flat.append(problem)
    if not flat:
        raise ValueError("combine() needs at least one error")
    first = flat[0]
    first.also = tuple(flat[1:])
    first.args = (first.render(),)
    return first


class StudyConfigError(BackfireError):
    """A study YAML file is malformed or names something that does not exist."""


class LanguagePackError(BackfireError):
    """A language pack or lexicon is missing, malformed or incomplete."""


class ContractError(BackfireError):
    """A data contract (schema or expectation suite) failed on a stage's table."""


class MissingExtraError(BackfireError):
    """An optional dependency is not installed; the fix is the install command of the extra that has it."""

    def __init__(self, feature: str, extra: str, *, module: str | None = None) -> None:
        self.feature, self.extra, self.module = feature, extra, module
        what = f"the Python package '{module}'" if module else "an optional dependency"
        super().__init__(f"{feature} needs {what}, which is not installed",
                         fix=f"pip install 'alignment-backfire[{extra}]' (in a source checkout: "
                             f"pip install -e '.[{extra}]')")


class WarehouseError(BackfireError):
    """The DuckDB warehouse is missing, locked or lacks the expected tables."""


class InternalError(Exception):
    """A bug (not a user error, not an endpoint failure) ended a pipeline run; the message is one line that
    names the exception, where it was raised and the log file holding its traceback.

    Deliberately not a ``BackfireError``: there is nothing for the user to fix in their files.
    """


class BundleError(BackfireError):
    """A reproducibility bundle is incomplete, tampered with, of a newer layout, or conflicts with the
    warehouse it is imported into."""
