"""Calibrating and predicting a new core: novelty, outputs, the blind-well test."""

from __future__ import annotations

import json
import shutil

import lasio
import numpy as np
import pandas as pd
import pytest

from lilyvae.data.lithology import lithology_class_table
from lilyvae.errors import LilyVAEError
from lilyvae.predict.calibration import calibration_path
from lilyvae.predict.members import load_model_set
from lilyvae.predict.outputs import intervals_frame, write_prediction
from lilyvae.predict.predictor import Predictor
from lilyvae.synthetic.novel import novel_mask


def test_calibration_is_plain_json_and_names_its_model(world):
    models = load_model_set(world.semisup)
    cal = json.loads(calibration_path(models).read_text())
    assert cal["model_sha256"] == models.sha256
    assert cal["synthetic"] is True
    assert world.novel["borehole"] not in cal["measured"]["boreholes"]["fit"]
    fit, check = (set(cal["measured"]["boreholes"][k]) for k in ("fit", "check"))
    assert fit and check and not fit & check
    assert fit | check <= set(world.held_out)
    with np.load(world.semisup.with_name("semisup.analogs.npz"), allow_pickle=False) as z:
        # Analogs and novelty compare with training bins only.
        assert not set(z["boreholes"]) & set(world.held_out)


def test_unsupervised_model_gets_a_head_saved_as_numbers(world):
    cal = json.loads(world.unsup.with_name("unsup.calibration.json").read_text())
    (head,) = cal["heads"]
    assert len(head["coef"]) == len(head["classes"])
    result = Predictor(world.unsup).predict(world.core)
    assert result.table["lithology"].notna().all()
    assert np.allclose(result.group_proba.sum(axis=1), 1, atol=1e-4)


@pytest.mark.parametrize("model", ["semisup", "unsup"])
def test_novelty_flags_the_injected_interval_and_few_ordinary_bins(world, model):
    predictor = Predictor(getattr(world, model))
    core = predictor.predict(world.core)
    injected = novel_mask(world.core, world.novel)
    assert injected.sum() == world.novel["bins"]
    assert core.table["novel"][injected].mean() >= 0.9
    ordinary = predictor.predict(world.ordinary).table["novel"]
    assert ordinary.mean() <= 0.05


def test_predict_without_principal_works_and_with_it_scores_itself(world, tmp_path):
    predictor = Predictor(world.semisup)
    blind = predictor.predict(world.core.drop(columns="Principal"), analogs=3)
    assert blind.scores is None
    assert "described" not in blind.table.columns
    assert list(blind.table["Depth_Bin"]) == list(world.core["Depth_Bin"])
    for j in (1, 2, 3):
        assert blind.table[f"analog_{j}_borehole"].notna().all()
    assert (blind.table["analog_1_distance"] <= blind.table["analog_2_distance"]).all()
    described = predictor.predict(world.ordinary)
    scores = described.scores
    for key in ("balanced_accuracy", "macro_f1", "ece", "coverage_0.9"):
        assert 0 <= scores[key]["value"] <= 1
        assert scores[key]["interval_95"] is not None
    assert scores["scored_bins"] > 0
    paths = write_prediction(described, tmp_path / "out.csv")
    summary = json.loads(paths["summary"][0].read_text())
    assert summary["blind_well"]["scored_bins"] == scores["scored_bins"]
    assert "SYNTHETIC" in summary["probabilities"]


def test_sets_hold_the_top_class_and_reach_about_their_level(world):
    table = Predictor(world.semisup).predict(world.ordinary, level=0.9).table
    sets = table["set_0.9"].str.split(";")
    assert (sets.str.len() == table["set_size"]).all()
    assert all(top in s for top, s in zip(table["lithology"], sets, strict=True))
    known = table["described"].isin(set(table["lithology_1"]) | set(sets.explode()))
    covered = [d in s for d, s in zip(table["described"], sets, strict=True)]
    assert np.mean(np.array(covered)[known.to_numpy()]) >= 0.8


def test_las_round_trips_through_lasio(world, tmp_path):
    result = Predictor(world.semisup).predict(world.core)
    paths = write_prediction(result, tmp_path / "out.parquet", las=tmp_path / "core.las")
    (las_path,) = paths["las"]
    las = lasio.read(str(las_path))
    assert las.well["WELL"].value == world.novel["borehole"]
    assert las.well["NULL"].value == -999.25
    assert las.params["DATA"].value == "SYNTHETIC"
    np.testing.assert_allclose(las.index, world.core["Depth_Bin"], atol=1e-5)
    for j, group in enumerate(result.group_names):
        curve = las.curves[j + 1]
        assert curve.descr == group
        np.testing.assert_allclose(curve.data, result.group_proba[:, j], atol=1e-5)
    np.testing.assert_allclose(las["NOVELTY"], result.table["novelty"], atol=1e-5)


def test_las_null_where_a_bin_cannot_be_read(world, tmp_path):
    core = world.core.copy()
    core.loc[2, "R"] = np.nan  # a 'drop' model reads complete bins only
    result = Predictor(world.semisup).predict(core)
    assert result.table.loc[2, "lithology"] is np.nan or pd.isna(result.table.loc[2, "lithology"])
    paths = write_prediction(result, tmp_path / "o.csv", las=tmp_path / "c.las")
    text = paths["las"][0].read_text()
    assert "-999.25" in text.split("~A")[1]
    assert np.isnan(lasio.read(str(paths["las"][0]))["SETSIZE"][2])


def test_intervals_cover_the_depths_without_gaps_or_overlaps(world):
    result = Predictor(world.semisup).predict(world.ordinary)
    intervals = intervals_frame(result)
    for borehole, part in intervals.groupby("Borehole_ID"):
        depth = world.ordinary.loc[world.ordinary["Borehole_ID"] == borehole, "Depth_Bin"]
        top, base = part["Top"].to_numpy(), part["Base"].to_numpy()
        assert (base > top).all()
        np.testing.assert_array_equal(top[1:], base[:-1])  # no gap, no overlap
        assert top[0] <= depth.min() and base[-1] >= depth.max()
        # Every bin lies in exactly one interval, whose lithology is the bin's.
        inside = (depth.to_numpy()[:, None] >= top) & (depth.to_numpy()[:, None] < base)
        assert (inside.sum(axis=1) == 1).all()
        assert part["Bins"].sum() == len(depth)
        # Depths to 0.1 mm, none above the sea floor; each interval's group is its
        # lithology's.
        np.testing.assert_array_equal(np.round(top, 4), top)
        assert top[0] >= 0 or depth.min() < 0
    classes = lithology_class_table()
    of = dict(zip(classes["Principal"], classes["Group"], strict=True))
    assert (intervals["Group"] == intervals["Lithology"].map(of).fillna("")).all()
    changes = (result.table["lithology"] != result.table["lithology"].shift()) | (
        result.table["Borehole_ID"] != result.table["Borehole_ID"].shift()
    )
    assert len(intervals) == int(changes.sum())


def test_a_calibration_from_another_model_is_refused(world, tmp_path):
    other = tmp_path / "other.pt"
    for suffix in (".pt", ".meta.json"):
        shutil.copy(
            world.unsup.with_suffix("").with_name("unsup" + suffix),
            other.with_name("other" + suffix),
        )
    shutil.copy(
        world.semisup.with_name("semisup.calibration.json"), tmp_path / "other.calibration.json"
    )
    shutil.copy(world.semisup.with_name("semisup.analogs.npz"), tmp_path / "other.analogs.npz")
    with pytest.raises(LilyVAEError, match="belongs to another model"):
        Predictor(other)


def test_a_model_without_calibration_says_how_to_get_one(world, tmp_path):
    for suffix in (".pt", ".meta.json"):
        shutil.copy(world.semisup.with_name("semisup" + suffix), tmp_path / f"bare{suffix}")
    with pytest.raises(LilyVAEError, match="lilyvae calibrate"):
        Predictor(tmp_path / "bare.pt")
    raw = Predictor(tmp_path / "bare.pt", uncalibrated=True).predict(world.core)
    assert (raw.table["probabilities"] == "UNCALIBRATED").all()
    assert "UNCALIBRATED" in raw.label


def test_calibration_twice_gives_the_same_file(world, tmp_path):
    from lilyvae.data.splits import BoreholeSplit
    from lilyvae.predict.fitting import calibrate

    for suffix in (".pt", ".meta.json"):
        shutil.copy(world.semisup.with_name("semisup" + suffix), tmp_path / f"again{suffix}")
    split = BoreholeSplit(tuple(sorted(set(world.held_out) - {world.novel["borehole"]})))
    calibrate(tmp_path / "again.pt", world.table, split=split)
    first = (tmp_path / "again.calibration.json").read_text()
    calibrate(tmp_path / "again.pt", world.table, split=split)
    assert (tmp_path / "again.calibration.json").read_text() == first


def test_calibrating_on_training_boreholes_is_refused(world):
    from lilyvae.data.splits import BoreholeSplit
    from lilyvae.predict.fitting import calibrate

    trained = sorted(set(world.frame["Borehole_ID"]) - set(world.held_out))[:3]
    with pytest.raises(LilyVAEError, match="training rows"):
        calibrate(world.semisup, world.table, split=BoreholeSplit(tuple(trained)))


def test_physically_impossible_measurements_are_flagged_not_answered_silently(world):
    core = world.ordinary.iloc[:50].copy()
    core["Bulk density (GRA)"] = 50.0
    core["NGR total counts (cps)"] = 100_000.0
    table = Predictor(world.semisup).predict(core).table
    assert table["novel"].all()
    assert (table["novelty"] > 10).all()


def test_uncalibrated_outputs_say_so_everywhere(world, tmp_path):
    for suffix in (".pt", ".meta.json"):
        shutil.copy(world.semisup.with_name("semisup" + suffix), tmp_path / f"raw{suffix}")
    result = Predictor(tmp_path / "raw.pt", uncalibrated=True).predict(world.core)
    paths = write_prediction(
        result, tmp_path / "o.csv", las=tmp_path / "o.las", intervals=tmp_path / "i.csv"
    )
    assert (pd.read_csv(paths["table"][0])["probabilities"] == "UNCALIBRATED").all()
    assert (pd.read_csv(paths["intervals"][0])["Probabilities"] == "UNCALIBRATED").all()
    assert "UNCALIBRATED" in lasio.read(str(paths["las"][0])).params["PROB"].value
    assert "UNCALIBRATED" in json.loads(paths["summary"][0].read_text())["probabilities"]


def test_withheld_lithologies_are_left_out_of_the_calibration(world, tmp_path):
    """Lithologies whose labels the head never saw would put 1 - p ~ 1 at the top of the
    conformal scores (sets of nearly every class): the calibration leaves their bins out
    of its fit and of its check, and counts them."""
    from lilyvae import make_config, train
    from lilyvae.data.splits import BoreholeSplit
    from lilyvae.data.tables import load_training_data
    from lilyvae.predict.fitting import calibrate

    data = load_training_data(world.table)
    calib = sorted(set(world.held_out) - {world.novel["borehole"]})
    in_calib = np.isin(data.boreholes, calib) & (data.labels >= 0)
    common = pd.Series(data.labels[in_calib]).value_counts().index[:2]
    hidden = [data.class_names[i] for i in common]
    config = make_config("semisupervised", "hybrid", epochs=1, seed=1)
    model = train(data, config, split=BoreholeSplit(world.held_out), withhold_labels=hidden)
    path = tmp_path / "withheld.pt"
    model.save(path)
    cal, _ = calibrate(path, world.table, split=BoreholeSplit(tuple(calib)))
    left = cal.measured["withheld_lithologies_left_out"]
    assert left["lithologies"] == 2 and left["fit_bins"] + left["check_bins"] > 0
    hidden_rows = in_calib & np.isin(data.labels, common)
    assert left["fit_bins"] + left["check_bins"] == int(hidden_rows.sum())
    assert cal.conformal["class"]["bins"] == cal.measured["bins"]["fit"]
    counted = cal.measured["bins"]["fit"] + cal.measured["bins"]["check"]
    assert counted == int(in_calib.sum() - hidden_rows.sum())


def test_a_figure_that_fails_leaves_no_file(world, tmp_path, monkeypatch):
    """The figures are drawn in another process: its failure still stops the write,
    with one LilyVAEError, and none of the outputs is left behind."""
    import lilyvae.predict.figure as figure

    def broken(*args, **kwargs):
        raise ValueError("no ink")

    result = Predictor(world.semisup).predict(world.core)
    monkeypatch.setattr(figure, "draw_core", broken)
    out = tmp_path / "p.csv"
    with pytest.raises(LilyVAEError, match="no ink"):
        write_prediction(result, out, las=tmp_path / "c.las", figure=tmp_path / "f.png")
    assert list(tmp_path.iterdir()) == []


def test_boreholes_drawn_on_one_reused_page_are_their_own_figures(world, tmp_path):
    """predict draws every borehole on one page, each after the last one's curves are
    taken off: each PNG is what a page of its own gives, byte for byte."""
    from lilyvae.predict.figure import CorePages, draw_core

    ordinary = Predictor(world.semisup).predict(world.ordinary)
    by_borehole = list(ordinary.table.groupby("Borehole_ID", sort=False).indices.items())
    pages = CorePages()
    for borehole, rows in by_borehole[:3]:
        draw_core(ordinary, rows, borehole, tmp_path / f"{borehole}.shared.png", pages)
        draw_core(ordinary, rows, borehole, tmp_path / f"{borehole}.own.png")
    for borehole, _ in by_borehole[:3]:
        shared = (tmp_path / f"{borehole}.shared.png").read_bytes()
        assert shared == (tmp_path / f"{borehole}.own.png").read_bytes(), borehole


def test_predict_gives_pytorch_its_threads_back(world):
    """The chunks run on half the cores beside the search; a notebook's PyTorch keeps
    the threads it had."""
    import torch

    before = torch.get_num_threads()
    Predictor(world.semisup).predict(world.core, analogs=2)
    assert torch.get_num_threads() == before
