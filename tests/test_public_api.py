"""The public API: ``from lilyvae import ...`` gives the functions and classes, whatever
was imported before (a subpackage must never shadow an exported name)."""

import subprocess
import sys

import pytest

import lilyvae

ORDERS = [
    "import lilyvae.training.config; from lilyvae import train, make_config",
    "from lilyvae import make_config, load_training_data, train",
    "from lilyvae.cli import main; from lilyvae import train",
]


@pytest.mark.parametrize("statement", ORDERS)
def test_exported_names_are_not_shadowed(statement):
    code = f"{statement}; import inspect; print(inspect.isfunction(train))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "True"


def test_every_exported_name_resolves():
    for name in lilyvae.__all__:
        assert getattr(lilyvae, name) is not None, name
    assert not set(lilyvae.__all__) & {"data", "synthetic", "model", "training", "analysis"}


def test_every_lazily_exported_name_resolves():
    """Packages that export names on first use (to keep PyTorch out of light commands)
    must still find every name they promise."""
    import importlib

    for package in ("lilyvae", "lilyvae.evaluation", "lilyvae.runs.ensemble"):
        module = importlib.import_module(package)
        for name in module.__all__:
            assert getattr(module, name) is not None, f"{package}.{name}"
