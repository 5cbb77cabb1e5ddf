"""A small SYNTHETIC world for the prediction tests, made once per session: a table with
an injected out-of-distribution interval, a semi-supervised and an unsupervised model
trained with that interval's borehole (and 40 others) held out, each calibrated on the
other held-out boreholes; the injected borehole is "the new core"."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

ROWS = 8000
EPOCHS = 4


@dataclass
class World:
    table: Path
    frame: pd.DataFrame
    novel: dict
    held_out: tuple[str, ...]
    semisup: Path
    unsup: Path

    @property
    def core(self) -> pd.DataFrame:
        """The new core: the injected borehole's bins."""
        return self.frame[self.frame["Borehole_ID"] == self.novel["borehole"]].reset_index(
            drop=True
        )

    @property
    def ordinary(self) -> pd.DataFrame:
        """Held-out in-distribution bins (the calibration boreholes)."""
        calib = set(self.held_out) - {self.novel["borehole"]}
        return self.frame[self.frame["Borehole_ID"].isin(calib)].reset_index(drop=True)


def _train(data, kind, split, path, seed=0):
    from lilyvae import make_config, train

    config = make_config(kind, "hybrid", epochs=EPOCHS, seed=seed)
    train(data, config, split=split, quiet=True).save(path)
    return path


@pytest.fixture(scope="session")
def world(tmp_path_factory) -> World:
    from lilyvae.data.splits import BoreholeSplit
    from lilyvae.data.tables import load_training_data
    from lilyvae.predict.fitting import calibrate
    from lilyvae.synthetic.generator import write_synthetic_table
    from lilyvae.synthetic.novel import add_novel_interval

    root = tmp_path_factory.mktemp("predict")
    table = write_synthetic_table(root / "table.csv", rows=ROWS, seed=3)
    novel = add_novel_interval(table, seed=0)
    data = load_training_data(table)
    ids = sorted(set(data.boreholes))
    rng = np.random.default_rng(0)
    held = set(rng.choice(ids, 40, replace=False).tolist()) | {novel["borehole"]}
    split = BoreholeSplit(tuple(sorted(held)))
    semisup = _train(data, "semisupervised", split, root / "semisup.pt")
    unsup = _train(data, "unsupervised", split, root / "unsup.pt")
    calib = BoreholeSplit(tuple(sorted(held - {novel["borehole"]})))
    for model in (semisup, unsup):
        calibrate(model, table, split=calib)
    frame = pd.read_csv(table, dtype={"Borehole_ID": str, "Principal": str})
    return World(table, frame, novel, tuple(sorted(held)), semisup, unsup)
