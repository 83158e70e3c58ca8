"""The package reads as the pipeline: no stage imports from a later one, no import cycle,
short modules (docs/ARCHITECTURE.md)."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "csbot"
# Stage of each module prefix, in pipeline order; the longest matching prefix wins.
STAGES = {
    "csbot": 0,  # errors, records, settings, lazy
    "csbot.text": 1,
    "csbot.ingest": 2,
    "csbot.embed": 2,
    "csbot.index": 3,
    "csbot.search": 4,
    "csbot.answer": 5,
    "csbot.serve": 6,  # the core (assistant) and what it records
    "csbot.reports": 7,
    "csbot.serve.cli": 8,  # the shells over everything
    "csbot.serve.api": 8,
    "csbot.__main__": 8,
}
MAX_MODULE_LINES = 400


def _module(path: Path) -> str:
    parts = path.relative_to(SRC.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _stage(module: str) -> int:
    best = max((p for p in STAGES if module == p or module.startswith(p + ".")), key=len)
    return STAGES[best]


def _imports() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for path in SRC.rglob("*.py"):
        found: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("csbot"):
                found.add(node.module)
            elif isinstance(node, ast.Import):
                found.update(a.name for a in node.names if a.name.startswith("csbot"))
        graph[_module(path)] = found
    return graph


def test_no_stage_imports_from_a_later_one() -> None:
    backwards = [
        f"{mod} (stage {_stage(mod)}) imports {dep} (stage {_stage(dep)})"
        for mod, deps in _imports().items()
        for dep in deps
        if _stage(dep) > _stage(mod)
    ]
    assert not backwards, backwards


def test_no_import_cycle() -> None:
    graph = {m: {d for d in deps if d in _imports()} for m, deps in _imports().items()}
    state: dict[str, int] = {}

    def visit(node: str, path: list[str]) -> list[str] | None:
        state[node] = 1
        for dep in sorted(graph.get(node, ())):
            if state.get(dep) == 1:
                return [*path, node, dep]
            if dep not in state and (cycle := visit(dep, [*path, node])):
                return cycle
        state[node] = 2
        return None

    for module in sorted(graph):
        if module not in state:
            cycle = visit(module, [])
            assert cycle is None, " -> ".join(cycle)


def test_modules_are_short() -> None:
    long = {
        _module(p): n
        for p in SRC.rglob("*.py")
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES
    }
    assert not long, long


def test_every_module_says_what_it_does() -> None:
    missing = [
        _module(p)
        for p in SRC.rglob("*.py")
        if p.stat().st_size and ast.get_docstring(ast.parse(p.read_text(encoding="utf-8"))) is None
    ]
    assert not missing, missing
