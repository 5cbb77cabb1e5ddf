"""umap imported with pynndescent deferred: the stand-ins behave as the real names, and
import the real module only when they are used."""

from __future__ import annotations

import sys
import textwrap

import pytest

from lilyvae.report.figures.umap_import import import_deferring

DEFERRED = {
    "heavy": {"Engine": "class"},
    "heavy.tables": {"TABLE": ("mapping", ("a",))},
}


@pytest.fixture
def packages(tmp_path, monkeypatch):
    """A slow-to-import package ``heavy`` and two packages that import names from it."""
    files = {
        "heavy/__init__.py": "class Engine:\n    def __init__(self, x):\n        self.x = x\n",
        "heavy/tables.py": "TABLE = {'a': 1, 'b': 2}\n",
        "user/__init__.py": """
            from heavy import Engine
            from heavy.tables import TABLE
            KNOWS_A = "a" in TABLE  # asked at import time, as umap asks of pynndescent
        """,
        "greedy/__init__.py": "from heavy import Engine, Other\n",
    }
    files["heavy/__init__.py"] += "class Other:\n    pass\n"
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(exist_ok=True)
        path.write_text(textwrap.dedent(text))
    monkeypatch.syspath_prepend(str(tmp_path))
    yield
    for name in [n for n in sys.modules if n.split(".")[0] in ("heavy", "user", "greedy")]:
        del sys.modules[name]


def test_names_import_the_real_module_only_when_used(packages):
    user = import_deferring("user", DEFERRED)
    assert user.KNOWS_A  # a known key answered without importing heavy
    assert not isinstance(3, user.Engine)
    assert "heavy" not in sys.modules and "heavy.tables" not in sys.modules

    engine = user.Engine(5)  # used: the real class, imported now
    import heavy

    assert type(engine) is heavy.Engine and engine.x == 5
    assert isinstance(engine, user.Engine)
    assert "b" in user.TABLE and user.TABLE["b"] == 2 and len(user.TABLE) == 2
    assert dict(user.TABLE) == {"a": 1, "b": 2}
    assert sys.modules["heavy"] is heavy  # the real module, not a stand-in


def test_a_name_not_stood_in_imports_plainly(packages):
    greedy = import_deferring("greedy", DEFERRED)  # needs heavy.Other too
    import heavy

    assert greedy.Engine is heavy.Engine and greedy.Other is heavy.Other
    assert not getattr(sys.modules["heavy"], "__lilyvae_stand_in__", False)


def test_an_imported_module_is_not_stood_in_for(packages):
    import heavy

    user = import_deferring("user", DEFERRED)
    assert user.Engine is heavy.Engine and user.TABLE is heavy.tables.TABLE


def test_an_unknown_kind_is_refused(packages):
    with pytest.raises(ValueError, match="heavy.Engine: unknown kind"):
        import_deferring("user", {"heavy": {"Engine": "function"}})
