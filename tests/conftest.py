"""Shared fixtures: small SYNTHETIC tables made once per session.

Tests are laid out like the package, one folder per stage of the data's path
(data, synthetic, model, train, analysis, runs, cli).
"""

from __future__ import annotations

import pytest

from lilyvae.synthetic.generator import generate_table

SMALL_ROWS = 3000


def pytest_report_header(config):
    """Where the suite ran: floating-point bytes depend on the processor."""
    from lilyvae.machine import describe_cpu

    return f"cpu: {describe_cpu()}"


@pytest.fixture(scope="session")
def small_frame():
    """A small synthetic LILY-like table (all 296 boreholes, all 139 classes)."""
    return generate_table(rows=SMALL_ROWS, seed=7)


@pytest.fixture(scope="session")
def small_csv(tmp_path_factory, small_frame):
    path = tmp_path_factory.mktemp("data") / "small.csv"
    small_frame.to_csv(path, index=False)
    return path


@pytest.fixture(scope="session")
def data(small_frame):
    """The small table as the trainer reads it (:class:`TrainingData`)."""
    from lilyvae.data.tables import training_data_from_frame

    return training_data_from_frame(small_frame, source="small")
