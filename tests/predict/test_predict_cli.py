"""``lilyvae calibrate`` and ``lilyvae predict`` from the command line: the input forms,
the outputs, and bad input (one line, exit 1, nothing written)."""

from __future__ import annotations

import json
import shutil

import lasio
import numpy as np
import pandas as pd
import pytest

from tests.cli_helpers import run


def _predict(world, tmp_path, data, *extra, capsys):
    return run(
        [
            "predict",
            "--model",
            world.semisup,
            "--data",
            data,
            "--output",
            tmp_path / "p.csv",
            *extra,
        ],
        capsys,
    )


def test_predict_writes_every_output(world, tmp_path, capsys):
    core = tmp_path / "core.csv"
    world.core.to_csv(core, index=False)
    code, out, err = _predict(
        world,
        tmp_path,
        core,
        "--analogs",
        "2",
        "--las",
        tmp_path / "c.las",
        "--intervals",
        tmp_path / "i.csv",
        "--figure",
        tmp_path / "f.png",
        capsys=capsys,
    )
    assert code == 0, err
    assert "blind-well test" in out and "flagged" in out
    table = pd.read_csv(tmp_path / "p.csv")
    assert len(table) == len(world.core)
    for name in ("c.las", "i.csv", "f.png", "p.predict.json"):
        assert (tmp_path / name).stat().st_size > 0
    assert json.loads((tmp_path / "p.predict.json").read_text())["synthetic"] is True


def test_calibrate_prints_before_and_after(world, tmp_path, capsys):
    for suffix in (".pt", ".meta.json"):
        shutil.copy(world.semisup.with_name("semisup" + suffix), tmp_path / f"m{suffix}")
    split = tmp_path / "calib.txt"
    split.write_text("\n".join(sorted(set(world.held_out) - {world.novel["borehole"]})))
    code, out, err = run(
        ["calibrate", "--model", tmp_path / "m.pt", "--data", world.table, "--split", split],
        capsys,
    )
    assert code == 0, err
    assert "ECE" in out and "->" in out and "coverage" in out and "SYNTHETIC" in out
    assert (tmp_path / "m.calibration.json").is_file()
    assert (tmp_path / "m.analogs.npz").is_file()


def test_predict_reads_a_las_file(world, tmp_path, capsys):
    las = lasio.LASFile()
    las.well["WELL"].value = "NEW-1"
    core = world.core
    las.append_curve("DEPT", core["Depth_Bin"].to_numpy(), unit="M")
    for mnemonic, column in (
        ("GRA", "Bulk density (GRA)"),
        ("MS", "Magnetic susceptibility (instr. units)"),
        ("NGR", "NGR total counts (cps)"),
        ("R", "R"),
        ("G", "G"),
        ("B", "B"),
    ):
        las.append_curve(mnemonic, core[column].to_numpy(np.float64))
    path = tmp_path / "new.las"
    las.write(str(path), version=2.0)
    code, _, err = _predict(world, tmp_path, path, capsys=capsys)
    assert code == 0, err
    table = pd.read_csv(tmp_path / "p.csv")
    assert (table["Borehole_ID"] == "NEW-1").all()
    assert len(table) == len(core)


def _lims_folder(folder, core, with_principal: bool):
    """Raw LIMS-format files of one borehole: two readings per bin."""
    folder.mkdir()
    exp, site, hole = core["Borehole_ID"].iloc[0].split("-")
    depth = np.repeat(core["Depth_Bin"].to_numpy(), 2) + np.tile([-0.04, 0.04], len(core))
    columns = {
        "GRA": ["Bulk density (GRA)"],
        "MS": ["Magnetic susceptibility (instr. units)"],
        "NGR": ["NGR total counts (cps)"],
        "RGB": ["R", "G", "B"],
    }
    for table, cols in columns.items():
        df = pd.DataFrame({"Exp": exp, "Site": site, "Hole": hole, "Depth CSF-A (m)": depth})
        for c in cols:
            df[c] = np.repeat(core[c].to_numpy(), 2)
        if with_principal and table == "GRA":
            df["Principal"] = np.repeat(core["Principal"].to_numpy(), 2)
        df.to_csv(folder / f"{table}_DataLITH.csv", index=False)


@pytest.mark.parametrize("with_principal", [False, True])
def test_predict_reads_raw_lims_files_with_or_without_lithology(
    world, tmp_path, capsys, with_principal
):
    core = world.ordinary[world.ordinary["Borehole_ID"] == world.ordinary["Borehole_ID"].iloc[0]]
    _lims_folder(tmp_path / "lims", core, with_principal)
    code, out, err = _predict(world, tmp_path, tmp_path / "lims", capsys=capsys)
    assert code == 0, err
    table = pd.read_csv(tmp_path / "p.csv")
    np.testing.assert_allclose(table["Depth_Bin"], core["Depth_Bin"])
    assert ("blind-well" in out) == with_principal


def _bad(world, tmp_path, capsys, data, *extra):
    code, out, err = _predict(world, tmp_path, data, *extra, capsys=capsys)
    assert code == 1
    assert len(err) == 1 and "Traceback" not in err[0]
    assert not (tmp_path / "p.csv").exists() and not (tmp_path / "p.predict.json").exists()
    return err[0]


def test_bad_input_is_one_line_and_writes_nothing(world, tmp_path, capsys):
    core = world.core
    cases = {
        "missing": core.drop(columns="NGR total counts (cps)"),
        "unordered": core.iloc[::-1],
        "empty": core.iloc[:0],
    }
    for name, frame in cases.items():
        frame.to_csv(tmp_path / f"{name}.csv", index=False)
    assert "NGR total counts" in _bad(world, tmp_path, capsys, tmp_path / "missing.csv")
    assert "do not increase" in _bad(world, tmp_path, capsys, tmp_path / "unordered.csv")
    assert "empty" in _bad(world, tmp_path, capsys, tmp_path / "empty.csv")
    good = tmp_path / "good.csv"
    core.to_csv(good, index=False)
    assert "--level" in _bad(world, tmp_path, capsys, good, "--level", "1.5")
    assert "--level" in _bad(world, tmp_path, capsys, good, "--level", "0")


def test_predict_refuses_another_models_calibration(world, tmp_path, capsys):
    for suffix in (".pt", ".meta.json"):
        shutil.copy(world.unsup.with_name("unsup" + suffix), tmp_path / f"m{suffix}")
    for suffix in (".calibration.json", ".analogs.npz"):
        shutil.copy(world.semisup.with_name("semisup" + suffix), tmp_path / f"m{suffix}")
    core = tmp_path / "core.csv"
    world.core.to_csv(core, index=False)
    code, _, err = run(
        ["predict", "--model", tmp_path / "m.pt", "--data", core, "--output", tmp_path / "p.csv"],
        capsys,
    )
    assert code == 1 and len(err) == 1 and "another model" in err[0]
    assert not (tmp_path / "p.csv").exists()


def test_an_ensemble_directory_predicts_as_one_model(world, tmp_path, capsys):
    from lilyvae import make_config, train
    from lilyvae.data.splits import BoreholeSplit
    from lilyvae.data.tables import load_training_data

    data = load_training_data(world.table)
    split = BoreholeSplit(world.held_out)
    members = tmp_path / "ens" / "members"
    for seed in (1, 2):
        config = make_config("semisupervised", "hybrid", epochs=2, seed=seed)
        train(data, config, split=split, quiet=True).save(members / f"m{seed}.pt")
    calib = tmp_path / "calib.txt"
    calib.write_text("\n".join(sorted(set(world.held_out) - {world.novel["borehole"]})))
    code, out, err = run(
        ["calibrate", "--model", tmp_path / "ens", "--data", world.table, "--split", calib], capsys
    )
    assert code == 0, err
    core = tmp_path / "core.csv"
    world.core.to_csv(core, index=False)
    code, out, err = run(
        ["predict", "--model", tmp_path / "ens", "--data", core, "--output", tmp_path / "p.csv"],
        capsys,
    )
    assert code == 0, err
    table = pd.read_csv(tmp_path / "p.csv")
    assert table["ensemble_disagreement"].between(0, 1).all()
