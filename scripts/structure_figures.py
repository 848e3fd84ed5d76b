"""Prints the structure figures the renovation issue tracks (run on any checkout):

- import cycles among the modules of the domain package (grimp's import graph,
  every import including those inside functions; a cycle = a strongly connected
  group of two or more modules),
- imports inside functions in layers/ and functions/ (and how many carry the
  `# deferred:` marker that says why),
- unit versus integration test lines.

    .venv/bin/python scripts/structure_figures.py [ROOT]
"""
from __future__ import annotations

import ast
import sys
from pathlib import Path


def import_graph_cycles(package_dir: Path) -> list[list[str]]:
    import grimp

    sys.path.insert(0, str(package_dir.parent))
    graph = grimp.build_graph(package_dir.name, cache_dir=None)
    adjacency = {m: sorted(graph.find_modules_directly_imported_by(m)) for m in graph.modules}
    return strongly_connected(adjacency)


def strongly_connected(adjacency: dict[str, list[str]]) -> list[list[str]]:
    """Tarjan's algorithm, iterative; groups of two or more nodes only."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    groups: list[list[str]] = []
    counter = 0
    for root in sorted(adjacency):
        if root in index:
            continue
        work = [(root, iter(adjacency.get(root, ())))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            advanced = False
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(adjacency.get(child, ()))))
                    advanced = True
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            if advanced:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == node:
                        break
                if len(group) > 1:
                    groups.append(sorted(group))
    return groups


def inner_imports(paths: list[Path]) -> tuple[list[str], list[str]]:
    """Places of imports inside functions: (marked `# deferred:`, unmarked)."""
    marked: list[str] = []
    unmarked: list[str] = []
    for path in paths:
        source = path.read_text(encoding="utf-8")
        lines = source.splitlines()

        def visit(node: ast.AST, in_function: bool) -> None:
            for child in ast.iter_child_nodes(node):
                inside = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef))
                if in_function and isinstance(child, (ast.Import, ast.ImportFrom)):
                    text = "\n".join(lines[child.lineno - 1:child.end_lineno])
                    (marked if "# deferred:" in text else unmarked).append(f"{path}:{child.lineno}")
                visit(child, inside)

        visit(ast.parse(source), False)
    return marked, unmarked


def code_lines(paths: list[Path]) -> int:
    return sum(len(p.read_text(encoding="utf-8").splitlines()) for p in paths)


def main() -> int:
    root = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).resolve().parent.parent).resolve()
    package = root / "layers" / "shared" / "python" / "livecommerce"
    cycles = import_graph_cycles(package)
    print(f"import cycles in layers/ (grimp, strongly connected groups): {len(cycles)}, "
          f"modules in them: {sum(len(c) for c in cycles)}")
    for group in cycles:
        print("   ", ", ".join(m.removeprefix("livecommerce.") for m in group))
    product = sorted(package.rglob("*.py")) + sorted((root / "functions").rglob("*.py"))
    marked, unmarked = inner_imports(product)
    print(f"imports inside functions (layers/ and functions/): {len(marked) + len(unmarked)} "
          f"({len(marked)} marked `# deferred:`, {len(unmarked)} unmarked)")
    unit = code_lines(sorted((root / "tests" / "unit").rglob("*.py")))
    integration = code_lines(sorted((root / "tests" / "integration").rglob("*.py")))
    print(f"test lines: unit {unit}, integration {integration}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
