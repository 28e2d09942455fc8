"""The layers as design.md draws them: bot → handlers → models, one way, no circles."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LAYERS = ("bot", "handlers", "models")  # each may import only the ones after it
SDKS = {"telegram", "twilio", "starlette", "uvicorn", "apscheduler", "aiohttp", "httpx"}
QUERY_BUILDERS = {"select", "insert", "update", "delete"}


def _modules() -> dict[str, ast.Module]:
    found = {}
    for layer in LAYERS:
        for path in sorted((ROOT / layer).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
            found[name] = ast.parse(path.read_text(encoding="utf-8"))
    return found


MODULES = _modules()


def _imports(tree: ast.Module) -> list[tuple[str, list[str], bool]]:
    """(module, names, at top level) for every import, TYPE_CHECKING blocks left out."""
    out: list[tuple[str, list[str], bool]] = []

    def visit(node: ast.AST, top: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                continue
            inner = top and not isinstance(
                child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef
            )
            if isinstance(child, ast.Import):
                out.extend((alias.name, [], top) for alias in child.names)
            elif isinstance(child, ast.ImportFrom) and child.module and not child.level:
                out.append((child.module, [alias.name for alias in child.names], top))
            visit(child, inner)

    visit(tree, True)
    return out


def _ours(module: str, names: list[str]) -> list[str]:
    """The kabar modules an import statement reaches."""
    if module.split(".")[0] not in LAYERS:
        return []
    reached = [f"{module}.{name}" for name in names if f"{module}.{name}" in MODULES]
    return reached or [module]


@pytest.mark.parametrize("name", sorted(MODULES))
def test_a_module_imports_only_the_layers_below_it_and_no_sdk_below_bot(name: str) -> None:
    layer = LAYERS.index(name.split(".")[0])
    for module, _, _ in _imports(MODULES[name]):
        top = module.split(".")[0]
        if top in LAYERS:
            assert LAYERS.index(top) >= layer, f"{name} imports {module}: layers point one way"
        if layer > 0:
            assert top not in SDKS, f"{name} imports {module}: only bot/ knows an SDK"


@pytest.mark.parametrize("name", sorted(MODULES))
def test_imports_are_at_the_top_of_the_module(name: str) -> None:
    inside = [module for module, _, top in _imports(MODULES[name]) if not top]
    assert inside == [], f"{name} imports inside a function (a circle held open?)"


def test_no_module_imports_itself_round_a_circle() -> None:
    graph = {
        name: {m for module, names, _ in _imports(tree) for m in _ours(module, names)} - {name}
        for name, tree in MODULES.items()
    }
    done: set[str] = set()

    def walk(name: str, path: list[str]) -> None:
        if name in path:
            raise AssertionError(" → ".join([*path[path.index(name) :], name]))
        if name in done:
            return
        for nxt in sorted(graph.get(name, ())):
            walk(nxt, [*path, name])
        done.add(name)

    for name in sorted(graph):
        walk(name, [])


@pytest.mark.parametrize("name", sorted(n for n in MODULES if n.startswith("handlers.")))
def test_handlers_ask_the_models_and_write_no_queries(name: str) -> None:
    for module, names, _ in _imports(MODULES[name]):
        if module.startswith("sqlalchemy"):
            assert not QUERY_BUILDERS & set(names), f"{name} builds queries: move them to models/"
