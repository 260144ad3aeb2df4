"""The package's layout keeps its imports one way, with no circles.

``notebook → view → answer → context, records → render → providers, result, map_result, exceptions``: a module
imports from its own folder and from folders to its right (folders on one step may import each other).
Every import counts, lazy and TYPE_CHECKING ones too: a circle through a lazy import is still one.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "llmring_jupyter"
STEPS = [
    {"notebook"},
    {"view"},
    {"answer"},
    {"context", "records"},
    {"render"},
    {"providers", "result", "map_result", "exceptions"},
]


def _modules() -> dict[str, Path]:
    out = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def _imports(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The package's modules ``name`` imports (dotted under the package; '' is the package)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_bytes())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".") if package else []
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            elif node.module and (node.module + ".").startswith("llmring_jupyter."):
                target = node.module.removeprefix("llmring_jupyter").lstrip(".")
            else:
                continue
            for alias in node.names:
                sub = f"{target}.{alias.name}" if target else alias.name
                found.add(sub if sub in modules else target)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if (alias.name + ".").startswith("llmring_jupyter."):
                    found.add(alias.name.removeprefix("llmring_jupyter").lstrip("."))
    return found - {name}


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imports(name, path, modules) for name, path in modules.items()}


def _step(module: str) -> int | None:
    top = module.split(".")[0]
    return next((i for i, step in enumerate(STEPS) if top in step), None)


def test_imports_run_one_way() -> None:
    against = set()
    for module, imported in _graph().items():
        here = _step(module)
        for other in imported:
            there = _step(other)
            if here is not None and there is not None and there < here:
                against.add((module, other))
    assert sorted(against) == [], "imports against notebook → view → answer → context, records → render → …"


def test_no_import_circles() -> None:
    graph = _graph()
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    circles = []

    def visit(node: str) -> None:  # Tarjan's strongly connected components
        index[node] = low[node] = len(index)
        stack.append(node)
        for other in graph.get(node, ()):
            if other not in graph:
                continue
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            group = []
            while True:
                top = stack.pop()
                group.append(top)
                if top == node:
                    break
            if len(group) > 1:
                circles.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    # a package's __init__ that hands on its modules' names is not a circle with them
    circles = [c for c in circles if not _only_faces(c, graph)]
    assert circles == []


def _only_faces(group: list[str], graph: dict[str, set[str]]) -> bool:
    """A circle made only by a package's __init__ re-exporting its own modules."""
    inner = [(a, b) for a in group for b in graph[a] if b in group]
    return all(b == a.rpartition(".")[0] or a == b.rpartition(".")[0] for a, b in inner)
