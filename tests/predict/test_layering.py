"""The prediction stage reads only the stages before it."""

from __future__ import annotations

import ast
from pathlib import Path

import lilyvae.predict

LATER = ("lilyvae.analysis", "lilyvae.properties", "lilyvae.runs", "lilyvae.cli")


def _imports(path: Path):
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            yield node.module
        elif isinstance(node, ast.Import):
            yield from (a.name for a in node.names)


def test_predict_imports_no_later_stage():
    folder = Path(lilyvae.predict.__file__).parent
    modules = sorted(folder.glob("*.py"))
    assert len(modules) > 5
    for path in modules:
        bad = [m for m in _imports(path) if m.startswith(LATER)]
        assert not bad, f"{path.name} imports {bad[0]}"
