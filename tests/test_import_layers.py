"""The package's stages import one way along the data's path, and no module imports
itself round a loop.

Every ``import`` in ``src/lilyvae`` is read, at module level and inside functions
alike (an import placed in a function to dodge a cycle is still a dependency).
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "src" / "lilyvae"

#: The stages in the order the data passes through them: each may import the ones
#: before it, never one after it.
STAGES = (
    "data",
    "synthetic",
    "model",
    "training",
    "predict",
    "evaluation",
    "properties",
    "report",
    "runs",
    "cli",
)
#: ``python -m lilyvae`` starts the CLI: above every stage, imported by none. The
#: modules directly under lilyvae/ (errors, files, hyperparams, ...; the package's
#: ``__init__``, which holds ``__version__`` and exports names lazily) are the
#: foundations: every stage may use them, and they import no stage.
ENTRY_POINTS = ("lilyvae.__main__",)


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def imports(path: Path, known: dict[str, Path], me: str | None = None) -> list[tuple[str, bool]]:
    """(imported lilyvae module, whether the import is at module level) of one file.

    ``from a.b import c`` is a dependency on ``a.b.c`` where that is a module, else on
    ``a.b``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    me = me or module_name(path)
    package = me if path.name == "__init__.py" else me.rpartition(".")[0]
    top_level = {id(node) for node in tree.body}
    found = []
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            names = [
                f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names
            ]
        for name in names:
            if name == "lilyvae" or name.startswith("lilyvae."):
                found.append((name, id(node) in top_level))
    return found


def stage_of(module: str) -> str | None:
    """The stage folder a module belongs to; None for the modules directly under
    lilyvae/ (the foundations) and the entry points."""
    parts = module.split(".")
    if len(parts) >= 2 and parts[1] in STAGES:
        return parts[1]
    return None


def test_every_stage_folder_is_listed():
    folders = {p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").is_file()}
    assert folders <= set(STAGES), f"stage folders missing from STAGES: {folders - set(STAGES)}"


def test_imports_run_one_way_along_the_data_path():
    known = modules()
    wrong = []
    for module, path in known.items():
        if module in ENTRY_POINTS:
            continue
        mine = stage_of(module)
        for target, _ in imports(path, known):
            theirs = stage_of(target)
            if target in ENTRY_POINTS:
                wrong.append(f"{module} imports {target} (the package's entry)")
            elif theirs is None:
                continue  # the foundations: errors, files, hyperparams, ...
            elif mine is None:
                wrong.append(f"{module} (a foundation) imports the stage {target}")
            elif STAGES.index(theirs) > STAGES.index(mine):
                wrong.append(f"{module} ({mine}) imports {target}, a later stage ({theirs})")
    assert not wrong, "\n".join(wrong)


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_no_module_imports_itself_round_a_loop():
    """Imports, in functions too, form no cycle (a package's ``__init__`` re-exporting
    its own modules is not one: importing a submodule runs the ``__init__`` first, by
    design; a module importing its own package's ``__init__`` back is)."""
    known = modules()
    graph: dict[str, set[str]] = {}
    for module, path in known.items():
        targets = {t for t, _ in imports(path, known) if t in known}
        is_package = path.name == "__init__.py"
        graph[module] = {t for t in targets if not (is_package and t.startswith(module + "."))}
    found = cycles(graph)
    assert not found, "import cycles: " + "; ".join(" <-> ".join(c) for c in found)


def test_the_checker_sees_a_cycle_and_a_backward_import(tmp_path):
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    f = tmp_path / "x.py"
    f.write_text("from lilyvae.data import tables\n\ndef f():\n    from lilyvae.cli import main\n")
    known = {"lilyvae.data.tables": f}
    got = imports(f, known, me="lilyvae.model.x")
    assert got == [("lilyvae.data.tables", True), ("lilyvae.cli", False)]
