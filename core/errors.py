"""User-facing errors: each names the file, the field, the problem and the fix.

The CLI prints a ``BackfireError`` without a traceback and exits 2; anything else is a bug and keeps its
traceback (an ``InternalError`` reports a bug that happened inside a pipeline run: one line, exit 3, the
traceback in the run's log file).
"""

from __future__ import annotations


class BackfireError(Exception):
    """An error the user can fix; its message says where and how."""

    def __init__(self, message: str, *, file: str | None = None, field: str | None = None,
                 fix: str | None = None) -> None:
        self.file = file
        self.field = field
        self.problem = message
        self.fix = fix
        super().__init__(self.render())

    def render(self) -> str:
        where = ": ".join(part for part in (self.file, self.field) if part)
        text = f"{where}: {self.problem}" if where else self.problem
        if self.fix:
            text += f". Fix: {self.fix}"
        return text


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
