"""The package's structure: no import cycles, function-level imports only where they are justified."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "psgdiag"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _resolve(name: str, known: dict[str, Path]) -> str | None:
    """The psgdiag module an import of `name` loads (a package's __init__ for a package)."""
    while name and name not in known:
        name = name.rpartition(".")[0]
    return name or None


def _imports(path: Path, known: dict[str, Path]) -> list[tuple[str, ast.stmt, bool]]:
    """(imported psgdiag module, the statement, whether it is at module level) for each import."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    top = set(map(id, tree.body))
    out: list[tuple[str, ast.stmt, bool]] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Import | ast.ImportFrom):
            continue
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            targets = [f"{node.module}.{a.name}" for a in node.names]
        for target in targets:
            if target.startswith("psgdiag"):
                mod = _resolve(target, known)
                if mod is not None:
                    out.append((mod, node, id(node) in top))
    return out


def _graph() -> dict[str, set[str]]:
    known = _modules()
    graph: dict[str, set[str]] = {name: set() for name in known}
    for name, path in known.items():
        for target, _node, _top in _imports(path, known):
            if target != name and target != "psgdiag":
                graph[name].add(target)
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_no_import_cycles_counting_imports_inside_functions() -> None:
    assert _cycles(_graph()) == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def _block_comment(lines: list[str], lineno: int) -> bool:
    """True when the import at `lineno` (1-based), or the block of imports it ends, has a comment."""
    if "#" in lines[lineno - 1]:
        return True
    i = lineno - 2
    while i >= 0:
        text = lines[i].strip()
        if text.startswith("#"):
            return True
        if text and not (text.startswith(("from ", "import ", ")")) or text.endswith(",")):
            return False
        i -= 1
    return False


def test_every_import_inside_a_function_says_why() -> None:
    """An import placed in a function carries a comment (start-up time, optional extra ...)."""
    known = _modules()
    missing = []
    for name, path in known.items():
        lines = path.read_text(encoding="utf-8").splitlines()
        for _target, node, top in _imports(path, known):
            if not top and not _block_comment(lines, node.lineno):
                missing.append(f"{name}:{node.lineno}")
    assert not missing, f"function-level psgdiag imports without a reason: {missing}"
