"""The `lilyvae` command: a thin layer over the Python API."""

from lilyvae.cli.main import main

__all__ = ["main"]
