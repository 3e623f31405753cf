"""Layers point one way: only `aido.api` and `aido.main` (and `python -m aido`, which serves
them) know FastAPI and Starlette, and only they import `aido.api`; every domain error has its
answer in api/errors.py's one table."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import aido
from aido.api.errors import ANSWERS
from aido.core import errors

PACKAGE = Path(aido.__file__).parent
WEB = ("fastapi", "starlette")
# The app (api/, main.py) and what runs it: `python -m aido` (serve.py builds its workers'
# app from aido.main).
WEB_LAYER = ("aido.api", "aido.main", "aido.serve", "aido.__main__")


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, modules: set[str]) -> set[str]:
    """What a module imports: other aido modules by name, anything else by its top package."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            # `from aido.x import y`: y may be a module of its own.
            names = [f"{node.module}.{a.name}" for a in node.names] + [node.module]
        else:
            continue
        for name in names:
            if name.startswith("aido."):
                if name in modules:
                    found.add(name)
            else:
                found.add(name.split(".")[0])
    return found


def _graph() -> dict[str, set[str]]:
    paths = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    return {name: _imports(path, set(paths)) for name, path in paths.items()}


def _in_web_layer(module: str) -> bool:
    return any(module == top or module.startswith(top + ".") for top in WEB_LAYER)


def _chain_to_web(graph: dict[str, set[str]], start: str) -> list[str] | None:
    """The import chain from `start` to FastAPI, Starlette or aido.api, if there is one."""
    seen, stack = {start}, [[start]]
    while stack:
        chain = stack.pop()
        for imported in sorted(graph.get(chain[-1], ())):
            if imported in WEB or _in_web_layer(imported):
                return [*chain, imported]
            if imported in graph and imported not in seen:
                seen.add(imported)
                stack.append([*chain, imported])
    return None


def test_nothing_below_the_api_imports_fastapi_starlette_or_the_api() -> None:
    graph = _graph()
    below = sorted(m for m in graph if not _in_web_layer(m))
    assert "aido.queries.tasks" in below  # the graph is real
    chains = [" -> ".join(c) for m in below if (c := _chain_to_web(graph, m))]
    assert not chains, "imports that point up:\n" + "\n".join(chains)


def test_importing_every_module_below_the_api_loads_neither_fastapi_nor_starlette() -> None:
    """The same, as Python sees it: third-party imports included (a fresh interpreter)."""
    below = sorted(m for m in _graph() if not _in_web_layer(m))
    script = (
        "import importlib, sys\n"
        f"for name in {below!r}:\n"
        "    importlib.import_module(name)\n"
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {WEB!r}))\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "[]", out.stdout


def test_every_domain_error_has_its_answer_in_the_one_table() -> None:
    def subclasses(cls: type) -> set[type]:
        return {s for c in cls.__subclasses__() for s in {c, *subclasses(c)}}

    declared = {c for c in subclasses(errors.DomainError) if c.__module__ == errors.__name__}
    assert declared, "core/errors.py declares no errors"
    assert declared == set(ANSWERS)
