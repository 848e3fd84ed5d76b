"""Boundaries the renovation set, held in `make test`:

- layers: functions -> composition root (manifest, http_routers) -> contexts -> platform
  (`shared` imports no context), and contexts meet only at public faces, events and
  specs: the import-linter contracts in .importlinter;
- no import cycles in the domain package, counting every import (grimp's graph);
- every import left inside a function says why with a `# deferred:` comment.
"""
from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
PACKAGE_PARENT = ROOT / "layers" / "shared" / "python"
sys.path.insert(0, str(ROOT / "scripts"))

from structure_figures import import_graph_cycles, inner_imports, strongly_connected  # noqa: E402


def test_import_linter_contracts_hold():
    env = {**os.environ, "PYTHONPATH": str(PACKAGE_PARENT)}
    result = subprocess.run([str(Path(sys.executable).parent / "lint-imports"), "--no-cache",
                             "--config", str(ROOT / ".importlinter")],
                            capture_output=True, text=True, env=env, cwd=ROOT)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert "Contracts: 2 kept, 0 broken" in result.stdout, result.stdout[-2000:]


def test_the_domain_package_has_no_import_cycle():
    cycles = import_graph_cycles(PACKAGE_PARENT / "livecommerce")
    assert cycles == [], cycles


def test_the_cycle_finder_finds_cycles():
    graph = {"a": ["b"], "b": ["c"], "c": ["a"], "d": ["a"], "e": ["e"]}
    assert strongly_connected(graph) == [["a", "b", "c"]]


def test_imports_inside_functions_say_why():
    files = sorted((PACKAGE_PARENT / "livecommerce").rglob("*.py")) + sorted((ROOT / "functions").rglob("*.py"))
    _marked, unmarked = inner_imports(files)
    assert unmarked == [], ("imports inside functions without a `# deferred: <why>` comment "
                            "(move them to the top, or say why they wait):\n" + "\n".join(unmarked))


def test_handlers_import_only_the_domain_package_and_runtime_libraries():
    allowed_roots = {"livecommerce", "aws_lambda_powertools", "__future__", "typing", "json", "pathlib", "os"}
    for handler in sorted((ROOT / "functions").glob("*/handler.py")):
        for node in ast.walk(ast.parse(handler.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                assert node.module.split(".")[0] in allowed_roots, (handler, node.module)
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    assert alias.name.split(".")[0] in allowed_roots, (handler, alias.name)
