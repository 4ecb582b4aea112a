"""The house plan, checked on the code's own imports: data flows one way and no module imports itself back.

Every ``import flexotip.X...`` / ``from flexotip.X import ...`` of every module (lazy ones
inside functions included) is read with :mod:`ast` and mapped to its folder through the
package map of pyproject.toml. The rooms, bottom to top:

    core (flexotip/ but cli.py) → geometry → fem → exports → pipeline → verification → studies
    spectral stands on the core alone; cli.py, the command line, may reach every room.
"""

from __future__ import annotations

import ast
import pathlib
import tomllib

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent

ALLOWED = {
    "core": {"core"},
    "geometry": {"core", "geometry"},
    "fem": {"core", "geometry", "fem"},
    "spectral": {"core", "spectral"},
    "exports": {"core", "geometry", "fem", "exports"},
    "pipeline": {"core", "geometry", "fem", "spectral", "exports", "pipeline"},
    "verification": {"core", "geometry", "fem", "spectral", "exports", "pipeline", "verification"},
    "studies": {"core", "geometry", "fem", "spectral", "exports", "pipeline", "verification", "studies"},
}
"""Which rooms each room may import."""


def _package_folders() -> dict[str, pathlib.Path]:
    """Dotted package name → folder, from pyproject.toml."""
    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    return {name: ROOT / folder for name, folder in setuptools["package-dir"].items()}


def _modules() -> dict[str, pathlib.Path]:
    """Every module of the package: dotted name → file."""
    modules = {}
    for package, folder in _package_folders().items():
        for path in folder.glob("*.py"):
            name = package if path.stem == "__init__" else f"{package}.{path.stem}"
            modules[name] = path
    return modules


def _room(module: str) -> str:
    """The room of a dotted module name."""
    parts = module.split(".")
    if len(parts) >= 2 and parts[1] in ALLOWED and parts[1] != "core":
        return parts[1]
    return "cli" if module == "flexotip.cli" else "core"


def _imports(path: pathlib.Path, modules: dict[str, pathlib.Path]) -> set[str]:
    """The flexotip modules a file imports (the module itself when a name is a module)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [f"{node.module}.{alias.name}" for alias in node.names] + [node.module]
        else:
            continue
        found |= {name for name in names if name in modules}
        found |= {name.rsplit(".", 1)[0] for name in names
                  if name not in modules and name.rsplit(".", 1)[0] in modules}
    return found


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imports(path, modules) - {name} for name, path in modules.items()}


def test_every_folder_is_a_room(graph):
    assert {_room(name) for name in graph} == set(ALLOWED) | {"cli"}


def test_imports_flow_one_way(graph):
    wrong = sorted(f"{name} ({_room(name)}) imports {target} ({_room(target)})"
                   for name, targets in graph.items() if _room(name) != "cli"
                   for target in targets if _room(target) not in ALLOWED[_room(name)])
    assert not wrong, "imports against the house plan:\n" + "\n".join(wrong)


def test_no_module_imports_itself_back(graph):
    """No circle of imports between files (Tarjan's strongly connected components)."""
    index, low, stack, on_stack, circles = {}, {}, [], set(), []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                circles.append(sorted(component))

    for node in graph:
        if node not in index:
            visit(node)
    assert not circles, f"circles of imports: {circles}"


def test_the_core_names_no_dolfinx(graph):
    """The core's files do not import DOLFINx, UFL, basix, PETSc or gmsh, even lazily."""
    heavy = ("dolfinx", "ufl", "basix", "ffcx", "petsc4py", "gmsh")
    offenders = []
    for name, path in _modules().items():
        if _room(name) != "core":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            offenders += [f"{name}: {n}" for n in names if n.split(".")[0] in heavy]
    assert not offenders, offenders
