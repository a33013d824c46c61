"""The import rules of docs/architecture.md (the contracts in pyproject's [tool.importlinter]) hold."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]


def test_import_contracts_are_kept() -> None:
    lint_imports = Path(sys.executable).with_name("lint-imports")
    done = subprocess.run([str(lint_imports), "--no-cache"], cwd=REPO_ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "BROKEN" not in done.stdout and done.stdout.count("KEPT") >= 3


def test_warehouse_and_core_import_nothing_above_them() -> None:
    """The layering without the tool: the bottom packages name no package above them in any import."""
    above = ("simulation", "scoring", "analysis", "data_contracts", "orchestration", "cli")
    offenders = []
    for package, forbidden in (("core", (*above, "warehouse")), ("warehouse", above)):
        for path in sorted((REPO_ROOT / package).rglob("*.py")):
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                words = line.split()
                if len(words) >= 2 and words[0] in ("import", "from") and words[1].split(".")[0] in forbidden:
                    offenders.append(f"{path.relative_to(REPO_ROOT)}:{number}: {line.strip()}")
    assert not offenders, "\n".join(offenders)


def _is_type_checking_block(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


def _runtime_imports(tree: ast.AST) -> list[tuple[int, str]]:
    """(line, top-level module) of every import that runs (``if TYPE_CHECKING:`` blocks skipped)."""
    found: list[tuple[int, str]] = []
    stack = [tree]
    while stack:
        node = stack.pop()
        if _is_type_checking_block(node):
            continue
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name.split(".")[0]) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.append((node.lineno, node.module.split(".")[0]))
        stack.extend(ast.iter_child_nodes(node))
    return found


def test_optional_libraries_are_imported_only_through_core_extras() -> None:
    """torch, transformers, openai... come with an extra: a missing one must be a MissingExtraError with the
    install command (core.extras.require), never an ImportError traceback."""
    from core.extras import EXTRAS

    optional = {module for modules in EXTRAS.values() for module in modules}
    offenders = []
    for package in ("core", "warehouse", "simulation", "scoring", "analysis", "data_contracts", "orchestration",
                    "cli"):
        for path in sorted((REPO_ROOT / package).rglob("*.py")):
            if path == REPO_ROOT / "core" / "extras.py":
                continue
            tree = ast.parse(path.read_text(encoding="utf-8"))
            offenders += [f"{path.relative_to(REPO_ROOT)}:{line}: import {module}"
                          for line, module in _runtime_imports(tree) if module in optional]
    assert not offenders, "use core.extras.require instead:\n" + "\n".join(sorted(offenders))
