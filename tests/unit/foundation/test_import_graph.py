"""The import graph of shared/ and services/: no cycle, and no project import inside a function body.

Read from the source (AST), never by importing it. An import inside a function hides a dependency (usually
one that would close a cycle) until that function first runs; imports under `if TYPE_CHECKING:` never run,
so they are not edges. `from pkg import name` is an edge to `pkg.name` when that is a module, else to `pkg`
(its __init__); a package's __init__ running before its submodules is not counted as an edge, or every
package that re-exports its modules would be a cycle.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
ROOTS = ("shared", "services")

# Deliberate imports inside a function body: {(importing module, imported module): reason}. Keep it short;
# only a heavy optional third-party model (imported lazily so a process that never needs it never loads it)
# is a reason, and third-party imports are not checked here at all. Project modules have none today.
ALLOWED_FUNCTION_IMPORTS: dict[tuple[str, str], str] = {}


@dataclass
class Graph:
    """Modules, their import-time edges, and the imports found inside functions."""

    modules: dict[str, Path] = field(default_factory=dict)
    edges: dict[str, set[str]] = field(default_factory=dict)
    in_functions: list[tuple[str, int, str]] = field(default_factory=list)


def _module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST) -> Iterator[tuple[ast.Import | ast.ImportFrom, bool]]:
    """Every import that runs, with whether it sits inside a function (TYPE_CHECKING blocks skipped)."""
    stack: list[tuple[ast.AST, bool]] = [(tree, False)]
    while stack:
        node, in_function = stack.pop()
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child.test):
                stack.extend((n, in_function) for n in child.orelse)
                continue
            if isinstance(child, ast.Import | ast.ImportFrom):
                yield child, in_function
            nested = in_function or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
            stack.append((child, nested))


def _resolve(name: str, modules: dict[str, Path]) -> str | None:
    """The project module `name` refers to (the longest known prefix), or None for third-party names."""
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def build_graph(root: Path, packages: tuple[str, ...] = ROOTS) -> Graph:
    """The import graph of the packages under `root` (compiled .pyx modules count as leaf modules)."""
    graph = Graph()
    for package in packages:
        for path in sorted((root / package).rglob("*.py*")):
            if path.suffix in (".py", ".pyx"):
                graph.modules[_module_name(path, root)] = path
    for name, path in graph.modules.items():
        graph.edges.setdefault(name, set())
        if path.suffix != ".py":
            continue
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node, in_function in _imports(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            else:
                base = node.module or ""
                if node.level:
                    parts = package.split(".")
                    parts = parts[: len(parts) - node.level + 1]
                    base = ".".join([*parts, base] if base else parts)
                targets = [
                    f"{base}.{a.name}" if f"{base}.{a.name}" in graph.modules else base for a in node.names
                ]
            for target in targets:
                found = _resolve(target, graph.modules)
                if found is None or found == name:
                    continue
                graph.edges[name].add(found)
                if in_function and (name, node.lineno, found) not in graph.in_functions:
                    graph.in_functions.append((name, node.lineno, found))
    graph.in_functions.sort()
    return graph


def cycles(graph: Graph) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan, iterative), sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[list[str]] = []
    for start in graph.modules:
        if start in index:
            continue
        work: list[tuple[str, Iterator[str]]] = [(start, iter(sorted(graph.edges[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.edges[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return sorted(found)


def test_shared_and_services_have_no_import_cycle() -> None:
    found = cycles(build_graph(REPO))
    assert not found, "import cycles (each line one group of modules that import each other):\n" + "\n".join(
        " <-> ".join(c) for c in found
    )


def test_no_project_module_is_imported_inside_a_function() -> None:
    graph = build_graph(REPO)
    hidden = [
        f"{graph.modules[m].relative_to(REPO)}:{line} imports {target}"
        for m, line, target in graph.in_functions
        if (m, target) not in ALLOWED_FUNCTION_IMPORTS
    ]
    assert not hidden, "imports inside functions (move them to the top, or allowlist with a reason):\n" + (
        "\n".join(hidden)
    )
    used = {(m, t) for m, _, t in graph.in_functions}
    assert not set(ALLOWED_FUNCTION_IMPORTS) - used, "allowlist entries no longer needed: remove them"


# -- the checker itself, on small made-up packages -------------------------------------------------------


def _write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        (
            {"pkg/__init__.py": "", "pkg/a.py": "import pkg.b\n", "pkg/b.py": "from pkg import a\n"},
            [["pkg.a", "pkg.b"]],
        ),
        (  # through a relative import and a third module
            {
                "pkg/__init__.py": "",
                "pkg/a.py": "from .b import x\n",
                "pkg/b.py": "from pkg.c import y\nx = 1\n",
                "pkg/c.py": "def f():\n    from pkg import a\n",
            },
            [["pkg.a", "pkg.b", "pkg.c"]],
        ),
        (  # an import only for type checking is not an edge
            {
                "pkg/__init__.py": "",
                "pkg/a.py": "import pkg.b\n",
                "pkg/b.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg import a\n",
            },
            [],
        ),
        (  # a package __init__ re-exporting its modules is not a cycle with them
            {"pkg/__init__.py": "from pkg.a import x\n", "pkg/a.py": "import json\nx = 1\n"},
            [],
        ),
    ],
)
def test_the_checker_finds_cycles(tmp_path: Path, files: dict[str, str], expected: list[list[str]]) -> None:
    assert cycles(build_graph(_write(tmp_path, files), ("pkg",))) == expected


def test_the_checker_finds_imports_inside_functions_but_not_type_checking_ones(tmp_path: Path) -> None:
    root = _write(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/a.py": (
                "import typing\nif typing.TYPE_CHECKING:\n    from pkg import b\n"
                "class C:\n    def m(self):\n        from pkg.b import x\n        import json\n"
                "f = lambda: __import__('json')\n"
            ),
            "pkg/b.py": "x = 1\n",
        },
    )
    assert build_graph(root, ("pkg",)).in_functions == [("pkg.a", 6, "pkg.b")]
