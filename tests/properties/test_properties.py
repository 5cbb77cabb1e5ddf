"""Zero-shot property prediction: the matching rule, both protocols, outputs, bad input.

The property tables here are hand-made, so what each variable should score is known:
a function of the embedding, pure noise, and a value constant within a borehole.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from cli_helpers import run

from lilyvae.data.splits import split_boreholes
from lilyvae.data.tables import training_data_from_frame
from lilyvae.errors import LilyVAEError
from lilyvae.properties import predict_properties, read_properties
from lilyvae.properties.matching import TrainingBins, match_table
from lilyvae.properties.output import csv_columns
from lilyvae.report.figures.property_figures import properties_figure
from lilyvae.synthetic.generator import generate_table
from lilyvae.training.trainer import train

DEPTH = "Depth CSF-A (m)"


# --- the matching rule, by hand ---------------------------------------------------------


def test_matching_rule_pinned_by_hand_made_rows(tmp_path):
    bins = TrainingBins(
        np.array(["1-U1-A", "1-U1-A", "1-U1-A", "1-U1-A", "2-U2-B"]),
        np.array([0.0, 0.2, 0.4, 1.2, 188.4]),
        "table",
    )
    rows = [  # Exp, Site, Hole, depth, value
        ("1", "U1", "A", "0.1", "1"),  # 0.1 / 0.2 = 0.5: half to even -> bin 0
        ("1", "U1", "A", "0.02", "3"),  # bin 0 again: averaged with the row above
        ("1", "U1", "A", "0.3", "5"),  # 1.4999999999999998 -> bin 1
        ("1", "U1", "A", "0.5", "n.d."),  # 2.5 -> bin 2; junk value counted, dropped
        ("1", "U1", "A", "0.7", "7"),  # 3.4999999999999996 -> bin 3: not in the table
        ("1", "U1", "A", "1.1", "9"),  # 5.5 -> half to even -> bin 6 (1.2 m)
        ("2", "U2", "B", "188.3", "11"),  # 941.5 -> 942 (188.4 m)
        ("2", "U2", "B", "188.5", "13"),  # 942.5 -> 942 too
        ("3", "U3", "C", "0.1", "15"),  # a borehole absent from the table
        ("1", "U1", "", "0.1", "17"),  # no hole: dropped
        ("1", "U1", "A", "deep", "19"),  # no usable depth: dropped
    ]
    df = pd.DataFrame(rows, columns=["Exp", "Site", "Hole", DEPTH, "value"], dtype=str)
    df = df.replace("", np.nan)
    m = match_table("TEST", tmp_path / "TEST_DataLITH.csv", df, bins, min_rows=1)
    # The reference's join: one row per matched sample, in the table's order.
    assert m.rows.tolist() == [0, 0, 1, 2, 3, 4, 4]
    np.testing.assert_array_equal(m.targets["value"], [1.0, 3.0, 5.0, np.nan, 9.0, 11.0, 13.0])
    c = m.counts
    assert c["dropped"] == {"missing_borehole_id": 1, "missing_or_bad_depth": 1}
    assert (c["bins"], c["bins_matched"], c["bins_not_in_table"]) == (7, 5, 2)
    assert (c["rows_read"], c["rows_matched"]) == (11, 7)
    assert (c["boreholes"], c["boreholes_not_in_table"]) == (3, 1)
    assert m.variables["value"] == {
        "numeric_cells": 10,
        "non_numeric_cells": 1,
        "matched_rows": 6,
        "matched_bins": 4,
    }
    means = match_table("TEST", tmp_path / "TEST_DataLITH.csv", df, bins, 1, bin_means=True)
    assert means.rows.tolist() == [0, 1, 2, 3, 4]
    np.testing.assert_array_equal(means.targets["value"], [2.0, 5.0, np.nan, 9.0, 12.0])
    assert m.skipped == {
        DEPTH: "depth_or_offset",
        "Exp": "metadata",
        "Site": "metadata",
        "Hole": "metadata",
    }


def test_targets_skipped_with_reasons(tmp_path):
    bins = TrainingBins(np.array(["1-U1-A"] * 4), np.array([0.0, 0.2, 0.4, 0.6]), "table")
    df = pd.DataFrame(
        {
            "Exp": "1",
            "Site": "U1",
            "Hole": "A",
            "Top depth CSF-A (m)": ["0", "0.2", "0.4", "0.6"],
            "Offset in sample (cm)": "1",
            "Comment text": "soft",
            "few": ["1", None, None, None],
            "flat": "2",
            "good": ["1", "2", "3", "4"],
        }
    )
    m = match_table("TEST", tmp_path / "TEST_DataLITH.csv", df, bins, min_rows=2)
    assert list(m.targets) == ["good"]
    assert m.skipped["Offset in sample (cm)"] == "depth_or_offset"
    assert m.skipped["Comment text"] == "not_numeric"
    assert m.skipped["few"] == "too_few_rows"
    assert m.skipped["flat"] == "constant"


def test_duplicate_table_bins_are_an_error():
    with pytest.raises(LilyVAEError, match="repeat"):
        TrainingBins(np.array(["1-U1-A", "1-U1-A"]), np.array([0.2, 0.2]), "t.csv")


# --- end to end on hand-made properties ---------------------------------------------------


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """40 boreholes of a synthetic table, a model holding out 30% of them, and a hand-made
    property table on every bin: a function of the embedding, noise, a per-borehole value."""
    root = tmp_path_factory.mktemp("properties")
    df = generate_table(rows=20000, seed=5)
    keep = df["Borehole_ID"].value_counts().index[:40]
    df = df[df["Borehole_ID"].isin(keep)].reset_index(drop=True)
    table = root / "table.csv"
    df.to_csv(table, index=False)
    data = training_data_from_frame(df, source=str(table))
    split = split_boreholes(data, 0.3, seed=1)
    model = train(data, model="unsupervised", recipe="hybrid", epochs=3, split=split)
    model.save(root / "unsup.pt")
    emb = model.embed(data.features).astype(float)
    rng = np.random.default_rng(0)
    holes = df["Borehole_ID"].str.split("-", n=2, expand=True)
    per_hole = dict(zip(keep, rng.normal(size=keep.size), strict=True))
    lily = root / "lily"
    lily.mkdir()
    pd.DataFrame(
        {
            "Exp": holes[0],
            "Site": holes[1],
            "Hole": holes[2],
            DEPTH: (df["Depth_Bin"] + rng.uniform(-0.09, 0.09, len(df))).round(3),
            "known": emb[:, 0] + 0.5 * emb[:, 1] ** 2,
            "noise": rng.normal(size=len(df)),
            "site": df["Borehole_ID"].map(per_hole),
        }
    ).to_csv(lily / "TEST_DataLITH.csv", index=False)
    return {"root": root, "table": table, "model": root / "unsup.pt", "lily": lily, "split": split}


def _predict(world, name: str, **options):
    options = {"tables": ["TEST"], "min_rows": 50, "workers": 1} | options
    return predict_properties(
        world["lily"], world["table"], [f"unsup={world['model']}"], world["root"] / name, **options
    )


@pytest.fixture(scope="module")
def honest(world):
    return _predict(world, "boreholes", rounds=300)


@pytest.fixture(scope="module")
def leaky(world):
    return _predict(world, "reference", protocol="reference", rounds=4)


def _row(result, variable: str) -> pd.Series:
    return result.frame.set_index("variable").loc[variable]


def test_known_function_of_the_embedding_is_recovered(honest):
    known = _row(honest, "known")
    assert known["unsup_r2"] > 0.8 and known["unsup_r2_low"] > 0.5
    assert known["unsup_r2_low"] <= known["unsup_r2"] <= known["unsup_r2_high"]


def test_noise_scores_about_zero_with_an_interval_reaching_zero(honest):
    noise = _row(honest, "noise")
    for p in ("unsup", "features"):
        assert abs(noise[f"{p}_r2"]) < 0.05
        assert noise[f"{p}_r2_low"] < 0 and noise[f"{p}_r2_high"] > -0.01


def test_site_level_variable_leaks_only_under_reference(honest, leaky):
    # Synthetic boreholes are harder to tell apart than real ones (the reference's
    # latitudes scored 0.98), but the leak is plain: high there, about 0 or below here.
    leak, fair = _row(leaky, "site")["unsup_r2"], _row(honest, "site")["unsup_r2"]
    assert leak > 0.3 and fair < 0.1 and leak - fair > 0.3
    assert _row(leaky, "noise")["unsup_r2"] > _row(honest, "noise")["unsup_r2"]


def test_scored_on_the_cards_held_out_boreholes(world, honest):
    split = honest.info["split"]
    assert split["source"] == "cards" and split["warnings"] == []
    assert set(split["test_boreholes"]) == set(world["split"].holdout)
    known = _row(honest, "known")
    assert known["n_test_boreholes"] == len(world["split"].holdout)


def test_output_schema(world, honest):
    frame = read_properties(world["root"] / "boreholes")
    assert list(frame.columns) == csv_columns(["unsup", "features"])
    assert list(frame.columns)[:6] == [
        "table",
        "variable",
        "n_rows",
        "n_boreholes",
        "n_test_rows",
        "n_test_boreholes",
    ]
    assert frame[["table", "variable"]].values.tolist() == [
        ["TEST", "known"],
        ["TEST", "noise"],
        ["TEST", "site"],
        ["TABLE", "Depth (m)"],
    ]
    assert (frame["protocol"] == "boreholes").all()
    info = json.loads((world["root"] / "boreholes" / "properties.json").read_text())
    for key in (
        "settings",
        "seeds",
        "split",
        "tables",
        "skipped_variables",
        "skipped_counts",
        "synthetic",
        "timings_s",
        "comparisons",
        "not_scored",
        "failed",
    ):
        assert key in info, key
    assert info["synthetic"] is False
    assert info["tables"]["TEST"]["bins_matched"] == info["data"]["rows_usable"]
    assert info["settings"]["regressor"]["estimator"] == "HistGradientBoostingRegressor"
    assert info["skipped_counts"] == {"metadata": 3, "depth_or_offset": 1}
    fig = properties_figure(world["root"] / "boreholes")
    assert len(fig.axes) == 1 and "SYNTHETIC" not in fig.get_suptitle()


def test_same_results_on_two_workers(world, honest):
    again = _predict(world, "two_workers", rounds=300, workers=2)
    pd.testing.assert_frame_equal(again.frame, honest.frame)


def test_too_few_held_out_boreholes_is_reported_not_scored(world, tmp_path):
    df = pd.read_csv(world["lily"] / "TEST_DataLITH.csv")
    held = list(world["split"].holdout)
    ids = df["Exp"].astype(str) + "-" + df["Site"] + "-" + df["Hole"]
    lily = tmp_path / "lily"
    lily.mkdir()
    df.to_csv(lily / "TEST_DataLITH.csv", index=False)
    df[~ids.isin(held[4:])].to_csv(lily / "FEW_DataLITH.csv", index=False)
    result = _predict(world | {"lily": lily}, "few", rounds=50, tables=["TEST", "FEW"])
    few = result.frame[result.frame["table"] == "FEW"].set_index("variable").loc["known"]
    assert few["n_test_boreholes"] == 4 and np.isnan(few["unsup_r2"])
    assert not np.isnan(_row(result, "known")["unsup_r2"].iloc[0])
    reasons = {(r["table"], r["variable"]): r["reason"] for r in result.info["not_scored"]}
    assert "< 5" in reasons[("FEW", "known")]


# --- the command and its errors ---------------------------------------------------------


def _args(world, out, **over):
    args = {
        "--lily-dir": world["lily"],
        "--data": world["table"],
        "--model": world["model"],
        "--output-dir": out,
        "--tables": "TEST",
        "--min-rows": 50,
        "--rounds": 50,
    } | over
    return [
        "properties",
        *[str(x) for kv in args.items() for x in kv if kv[1] is not None],
        "--quiet",
        "--workers",
        "1",
    ]


def test_command_writes_and_summarises(world, tmp_path, capsys):
    code, out, err = run(_args(world, tmp_path / "out"), capsys)
    assert code == 0 and err == []
    assert "unsup vs features" in out and "intervals overlap" in out
    assert (tmp_path / "out" / "properties.csv").is_file()


def test_errors_are_one_line_and_write_nothing(world, tmp_path, capsys):
    out = tmp_path / "out"
    code, _, err = run(_args(world, out, **{"--lily-dir": tmp_path / "missing"}), capsys)
    assert code == 1 and len(err) == 1 and "missing" in err[0] and "no such directory" in err[0]
    (tmp_path / "empty").mkdir()
    code, _, err = run(
        _args(world, out, **{"--lily-dir": tmp_path / "empty", "--tables": None}), capsys
    )
    assert code == 1 and len(err) == 1 and "MAD_DataLITH.csv" in err[0]
    bare = tmp_path / "bare.pt"
    bare.write_bytes(world["model"].read_bytes())
    code, _, err = run(_args(world, out, **{"--model": bare}), capsys)
    assert code == 1 and len(err) == 1 and "bare.meta.json" in err[0]
    code, _, err = run(_args(world, out, **{"--tables": "NOPE"}), capsys)
    assert code == 1 and "NOPE_DataLITH.csv" in err[0]
    bad = tmp_path / "bad.csv"  # text in a measurement column: the training table's checks
    lines = world["table"].read_text().splitlines()
    first = lines[1].split(",")
    column = lines[0].split(",").index("R")
    first[column] = "n/a?"
    bad.write_text("\n".join([lines[0], ",".join(first), *lines[2:]]) + "\n")
    code, _, err = run(_args(world, out, **{"--data": bad}), capsys)
    assert code == 1 and len(err) == 1 and "bad.csv" in err[0] and "line 2" in err[0], err
    assert not out.exists()


def test_bad_table_is_named_and_skipped_while_others_run(world, tmp_path, capsys):
    lily = tmp_path / "lily"
    lily.mkdir()
    good = pd.read_csv(world["lily"] / "TEST_DataLITH.csv")
    good.to_csv(lily / "TEST_DataLITH.csv", index=False)
    good.drop(columns=[DEPTH]).to_csv(lily / "NODEPTH_DataLITH.csv", index=False)
    good.drop(columns=["Site"]).to_csv(lily / "NOSITE_DataLITH.csv", index=False)
    args = _args(world | {"lily": lily}, tmp_path / "out", **{"--tables": "TEST,NODEPTH,NOSITE"})
    code, out, err = run(args, capsys)
    assert code == 0 and "table NODEPTH skipped" in out and "table NOSITE skipped" in out
    info = json.loads((tmp_path / "out" / "properties.json").read_text())
    assert set(info["tables_skipped"]) == {"NODEPTH", "NOSITE"}
    assert "'Site'" in info["tables_skipped"]["NOSITE"]
    args = _args(world | {"lily": lily}, tmp_path / "none", **{"--tables": "NODEPTH,NOSITE"})
    code, _, err = run(args, capsys)
    assert code == 1 and len(err) == 1 and "no property variable could be scored" in err[0]
    assert not (tmp_path / "none").exists()


def test_model_named_like_the_baseline_is_refused(world, tmp_path):
    with pytest.raises(LilyVAEError, match="baseline"):
        predict_properties(
            world["lily"], world["table"], [f"features={world['model']}"], tmp_path, tables=["TEST"]
        )


def test_ray_backend_gives_the_local_results(world, honest):
    pytest.importorskip("ray")
    result = _predict(world, "ray", rounds=300, backend="ray", workers=2)
    pd.testing.assert_frame_equal(result.frame, honest.frame)


def test_mask_model_on_a_table_with_partial_rows(world, tmp_path):
    """A model that trains on rows lacking colour (missing="mask") is compared with the
    others on the rows every subject can use: those with all six inputs, counted."""
    df = pd.read_csv(world["table"])
    blank = np.random.default_rng(2).random(len(df)) < 0.1
    df.loc[blank, ["R", "G", "B"]] = np.nan
    table = tmp_path / "partial.csv"
    df.to_csv(table, index=False)
    data = training_data_from_frame(df, source=str(table), keep_partial=True)
    model = train(
        data, model="unsupervised", recipe="hybrid", epochs=1, split=world["split"], missing="mask"
    )
    model.save(tmp_path / "mask.pt")
    result = predict_properties(
        world["lily"],
        table,
        [f"mask={tmp_path / 'mask.pt'}"],
        tmp_path / "out",
        tables=["TEST"],
        min_rows=50,
        workers=1,
        rounds=20,
    )
    assert result.info["data"]["rows_read"] == len(df)
    assert result.info["data"]["rows_usable"] == int((~blank).sum())
    known = result.frame.set_index("variable").loc["known"]
    assert known["n_rows"] == int((~blank).sum())  # every usable bin has the property
    assert np.isfinite(known[["mask_r2", "features_r2"]].astype(float)).all()
