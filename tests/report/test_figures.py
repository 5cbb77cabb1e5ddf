"""Figures: every figure drawn from code, PNG at 150 dpi, labelled, the map without downloads."""

import json

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from lilyvae.cli.main import build_parser
from lilyvae.data.boreholes import borehole_positions, borehole_table_path
from lilyvae.data.schema import BOREHOLE_TABLE_COLUMNS
from lilyvae.data.splits import split_boreholes
from lilyvae.data.tables import training_data_from_frame
from lilyvae.errors import LilyVAEError
from lilyvae.evaluation import EvalConfig, evaluate
from lilyvae.model.embeddings import NamedModel, embed_frame
from lilyvae.report.figures import (
    FIGURES,
    DrawOptions,
    FigureInputs,
    FigureSpec,
    Needs,
    fig_borehole_map,
    land_fraction_grid,
    make_figures,
    read_manifest,
)
from lilyvae.report.figures.all_figures import draw_figures
from lilyvae.report.figures.downcore import DOWNCORE, downcore_boreholes
from lilyvae.report.figures.explorer import POINT_COLUMNS
from lilyvae.report.figures.style import pyplot
from lilyvae.report.figures.training_curves import schedule_marks
from lilyvae.runs.demo import write_synthetic_borehole_table
from lilyvae.synthetic.generator import write_synthetic_table
from lilyvae.training.trainer import train

ALL = {
    "dataset_overview",
    "input_distributions",
    "lithology_counts",
    "borehole_map",
    "coverage",
    "training_curves",
    "reconstruction_hybrid",
    "reconstruction_standard",
    "prior_samples",
    "roc",
    "zero_shot",
    "umap",
    "latent_kl",
    "group_confusion",
    "class_recall",
    "reliability",
}


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """A synthetic table with its borehole table, two models per recipe, and metrics."""
    root = tmp_path_factory.mktemp("fig_run")
    table = write_synthetic_table(root / "syn.csv", rows=3000, seed=5)
    write_synthetic_borehole_table(table)
    df = pd.read_csv(table)
    data = training_data_from_frame(df, source=str(table))
    split = split_boreholes(data, 0.2, 1)
    models = []
    for kind in ("unsupervised", "semisupervised"):
        for recipe in ("standard", "hybrid"):
            trained = train(data, model=kind, recipe=recipe, epochs=2, split=split)
            models.append(NamedModel(f"{kind[:4]}_{recipe}", None, trained))
    config = EvalConfig(svm_train_rows=500, svm_test_rows=300, gmm_components=4, gmm_rows=500)
    mixtures: dict = {}
    metrics = evaluate(models, data, config, mixtures=mixtures)
    return {"table": table, "df": df, "models": models, "metrics": metrics, "mixtures": mixtures}


def test_every_figure(tmp_path, run):
    emb = embed_frame(run["df"], run["models"])
    result = make_figures(
        tmp_path,
        run["table"],
        run["models"],
        run["metrics"],
        embeddings=emb,
        umap_rows=300,
        scatter_rows=300,
        prior_rows=2000,
        pdf=True,
    )
    names = {f.name for f in result.figures}
    downcore = {n for n in names if n.startswith("downcore_")}
    assert names - downcore == ALL and len(downcore) == 3
    # the zero-shot property figure needs `lilyvae properties` to have run (see below)
    assert set(result.skipped) == {"zero_shot_properties"}
    for f in result.figures:
        png = tmp_path / f.file
        with Image.open(png) as im:
            assert im.format == "PNG"
            assert np.allclose(im.info["dpi"], (150, 150), atol=0.5)
        assert (tmp_path / f.pdf).read_bytes()[:4] == b"%PDF"
        assert f.title.startswith("SYNTHETIC data") and f.caption.startswith("SYNTHETIC data")
    manifest = read_manifest(tmp_path)
    assert manifest["synthetic"] is True and manifest["parameters"]["umap_rows"] == 300
    assert all(f["seconds"] >= 0 for f in manifest["figures"])
    # The report's explorer: the UMAP rows, half of them held out, with what a hover shows.
    explorer = manifest["explorer"]
    points = pd.read_parquet(tmp_path / explorer["file"])
    assert len(points) == explorer["rows"] == 300 and explorer["held_out_rows"] == 150
    assert int(points["held_out"].sum()) == 150
    assert set(POINT_COLUMNS) <= set(points.columns)
    for name in ["features"] + [m.name for m in run["models"]]:
        assert {f"x:{name}", f"y:{name}"} <= set(points.columns)
    for m in run["models"]:
        assert points[f"cluster:{m.name}"].between(0, 19).all()
    assert points["lithology"].notna().all() and points["group"].notna().all()
    assert json.loads((tmp_path / "figures.json").read_text())["figures"][0]["file"].endswith(
        ".png"
    )


def test_the_figures_clusters_are_the_evaluations(run):
    """The GMM clusters the figures colour by are the evaluation's: scored as it scores
    them (ARI on labelled held-out rows), they give the ARI in the metrics, whatever
    seed the figures are drawn with."""
    from sklearn.metrics import adjusted_rand_score

    from lilyvae.report.figures.model_outputs import clusters_of

    options = DrawOptions(seed=7)
    inputs = FigureInputs(
        run["df"], run["table"], run["models"], run["metrics"], None, None, True, options
    )
    scored = np.flatnonzero(inputs.held_out & inputs.labels.notna().to_numpy())
    for m in run["models"]:
        clusters = clusters_of(inputs, m, scored)
        ari = adjusted_rand_score(inputs.labels.iloc[scored].astype(str), clusters)
        expected = run["metrics"]["subjects"][m.name]["clustering"]["ari"]
        assert ari == pytest.approx(expected, abs=1e-9), m.name


def test_the_figures_fit_the_evaluations_mixture_to_the_bit(run):
    """Fitted again by the figures (a `report` run in a new process), each model's
    mixture is the evaluation's own: the same rows, standardised the same way in
    float64, so the same means, covariances and digest."""
    from lilyvae.report.figures.model_outputs import clustering

    inputs = FigureInputs(
        run["df"], run["table"], run["models"], run["metrics"], None, None, True, DrawOptions()
    )
    for m in run["models"]:
        ours, evaluations = clustering(inputs, m), run["mixtures"][m.name]
        assert ours.digest == evaluations.digest, m.name
        np.testing.assert_array_equal(ours.gmm.means_, evaluations.gmm.means_)
        np.testing.assert_array_equal(ours.gmm.covariances_, evaluations.gmm.covariances_)
        np.testing.assert_array_equal(ours.mean, evaluations.mean)


def test_figures_colour_by_the_evaluations_mixtures_without_refitting(run, monkeypatch):
    """Handed the mixtures the evaluation fitted in this process (as the demo does),
    the figures use them and fit none; one fitted on other rows (another digest) is
    passed over and that model's mixture is fitted here."""
    import dataclasses

    import lilyvae.report.figures.model_outputs as model_outputs

    def inputs():
        options = DrawOptions()
        return FigureInputs(
            run["df"], run["table"], run["models"], run["metrics"], None, None, True, options
        )

    fits = []
    real_fit = model_outputs.fit_mixture_one_thread
    monkeypatch.setattr(
        model_outputs, "fit_mixture_one_thread", lambda *a: fits.append(a) or real_fit(*a)
    )
    handed = inputs()
    assert model_outputs.adopt_mixtures(handed, run["mixtures"]) == len(run["models"])
    monkeypatch.setattr(model_outputs, "SIDE_PROCESS_MIN_ROWS", 0)
    # nothing left to start (a pool it tried to use would fail: it has no submit)
    assert model_outputs.start_clusterings(handed, object()) == 0
    rows = np.arange(len(handed.frame))
    for m in run["models"]:
        assert model_outputs.clustering(handed, m) is run["mixtures"][m.name]
    assert fits == []

    first = run["models"][0]
    other = dict(run["mixtures"])
    other[first.name] = dataclasses.replace(other[first.name], digest="another problem")
    mixed = inputs()
    assert model_outputs.adopt_mixtures(mixed, other) == len(run["models"]) - 1
    refitted = model_outputs.clustering(mixed, first)
    assert len(fits) == 1 and refitted is not run["mixtures"][first.name]
    clusters = model_outputs.clusters_of
    np.testing.assert_array_equal(clusters(mixed, first, rows), clusters(handed, first, rows))


def test_group_confusion_has_every_group_and_numbers(run):
    """All 14 groups of the shipped list label a row and a column, a group without
    scored rows included; the cells carry their shares in per cent."""
    import copy

    from lilyvae.data.lithology import lithology_groups
    from lilyvae.report.figures import fig_group_confusion

    assert len(lithology_groups()) == 14
    metrics = copy.deepcopy(run["metrics"])
    conf = metrics["subjects"]["features"]["svm"]["group_confusion"]
    # Drop the first described group from the matrix: it has no scored rows now.
    gone = conf["groups"][0]
    conf["groups"] = conf["groups"][1:]
    conf["counts"] = [row[1:] for row in conf["counts"][1:]]
    fig = fig_group_confusion(metrics, "svm")
    ax = fig.axes[0]
    rows = [t.get_text() for t in ax.get_yticklabels()]
    columns = [t.get_text() for t in ax.get_xticklabels()]
    assert len(rows) == len(columns) == 14 and columns == list(lithology_groups())
    assert f"{gone} (0)" in rows
    numbers = [t.get_text() for t in ax.texts if t.get_text() != "no rows"]
    assert numbers and all(t == "<1" or t.isdigit() for t in numbers)
    assert sum(t.get_text() == "no rows" for t in ax.texts) >= 14 - len(conf["groups"])
    pyplot().close(fig)


def test_skips_what_it_cannot_draw(tmp_path, run):
    df = run["df"].drop(columns=["Principal"])
    result = make_figures(tmp_path, df, None, None)
    names = {f.name for f in result.figures}
    # Down-core logs need only boreholes and depths: measurements, no lithology column.
    downcore = {n for n in names if n.startswith("downcore_")}
    assert names - downcore == {"dataset_overview", "input_distributions"}
    assert len(downcore) == 3
    skipped = {"borehole_map", "roc", "zero_shot", "umap", "lithology_counts", "group_confusion"}
    assert skipped <= set(result.skipped)
    assert read_manifest(tmp_path)["explorer"] is None
    assert not result.figures[0].title.startswith("SYNTHETIC")


def test_borehole_table(run):
    path = borehole_table_path(run["table"])
    assert path.name == "syn.boreholes.csv"
    bt = pd.read_csv(path)
    assert tuple(bt.columns) == BOREHOLE_TABLE_COLUMNS
    assert bt["rows"].sum() == 3000 and len(bt) == run["df"]["Borehole_ID"].nunique()
    assert (bt["min_depth_m"] <= bt["max_depth_m"]).all()
    assert bt["latitude"].between(-90, 90).all() and bt["longitude"].between(-180, 180).all()


def test_positions_from_lat_lon_columns(run):
    df = run["df"].copy()
    df["Latitude (DD)"] = 10.0
    df["Longitude (DD)"] = -30.0
    pos = borehole_positions(df, None)
    assert len(pos) == df["Borehole_ID"].nunique() and (pos["latitude"] == 10.0).all()
    assert borehole_positions(run["df"], None) is None


def test_land_grid_is_cached_and_the_cache_gives_the_same_grid(tmp_path, monkeypatch):
    from lilyvae.report.figures import borehole_map

    monkeypatch.setenv("LILYVAE_CACHE_DIR", str(tmp_path / "cache"))
    borehole_map.land_fraction_grid.cache_clear()
    first = borehole_map.land_fraction_grid()
    assert len(list((tmp_path / "cache").glob("land_fraction_*.npz"))) == 1
    borehole_map.land_fraction_grid.cache_clear()

    def no_averaging(*_):
        raise AssertionError("averaged the mask again despite the cache")

    monkeypatch.setattr(borehole_map, "_average_land_mask", no_averaging)
    again = borehole_map.land_fraction_grid()
    for a, b in zip(first, again, strict=True):
        assert a.dtype == b.dtype and np.array_equal(a, b)
    monkeypatch.undo()
    # A damaged cache file is averaged again and replaced; one that cannot be written (a
    # file where the folder should be) is passed over.
    monkeypatch.setenv("LILYVAE_CACHE_DIR", str(tmp_path / "cache"))
    next((tmp_path / "cache").glob("land_fraction_*.npz")).write_bytes(b"PK\x03\x04cut")
    borehole_map.land_fraction_grid.cache_clear()
    for a, b in zip(first, borehole_map.land_fraction_grid(), strict=True):
        assert np.array_equal(a, b)
    blocked = tmp_path / "blocked"
    blocked.write_text("")
    monkeypatch.setenv("LILYVAE_CACHE_DIR", str(blocked))
    borehole_map.land_fraction_grid.cache_clear()
    for a, b in zip(first, borehole_map.land_fraction_grid(), strict=True):
        assert np.array_equal(a, b)
    borehole_map.land_fraction_grid.cache_clear()


def test_land_grid_cache_is_shared_by_every_install_of_the_same_mask(tmp_path, monkeypatch):
    """The cache is named by the mask's content: a reinstalled or freshly cloned copy
    (the same file with a new time) uses the grid already cached, and adds no file."""
    import os
    import shutil

    from lilyvae.report.figures import borehole_map

    shipped = borehole_map._land_mask_file()
    copy = tmp_path / "install" / shipped.name
    copy.parent.mkdir()
    shutil.copyfile(shipped, copy)
    monkeypatch.setattr(borehole_map, "_land_mask_file", lambda: copy)
    monkeypatch.setenv("LILYVAE_CACHE_DIR", str(tmp_path / "cache"))
    borehole_map.land_fraction_grid.cache_clear()
    first = borehole_map.land_fraction_grid()
    os.utime(copy, ns=(1_000_000_000, 1_000_000_000))  # another install's time
    borehole_map.land_fraction_grid.cache_clear()

    def no_averaging(*_):
        raise AssertionError("averaged the mask again for the same mask")

    monkeypatch.setattr(borehole_map, "_average_land_mask", no_averaging)
    for a, b in zip(first, borehole_map.land_fraction_grid(), strict=True):
        assert np.array_equal(a, b)
    assert len(list((tmp_path / "cache").glob("land_fraction_*.npz"))) == 1
    borehole_map.land_fraction_grid.cache_clear()


def test_land_mask_without_download():
    lat, lon, land = land_fraction_grid()
    assert land.shape == (len(lat), len(lon)) == (720, 1440)
    # About 29% of the Earth's surface is land; cells near the poles are small.
    weights = np.cos(np.radians(lat))[:, None] * np.ones_like(land)
    frac = float((land * weights).sum() / weights.sum())
    assert 0.25 < frac < 0.35
    row = int(np.argmin(np.abs(lat - 48.85)))
    col_paris, col_atlantic = (int(np.argmin(np.abs(lon - x))) for x in (2.35, -30.0))
    assert land[row, col_paris] > 0.5 and land[row, col_atlantic] < 0.5
    pos = pd.DataFrame({"Borehole_ID": ["a", "b"], "latitude": [0, 10], "longitude": [0, 20]})
    fig = fig_borehole_map(pos, ["b"], "t")
    assert len(fig.axes[0].collections) >= 3


def test_every_figure_has_one_spec():
    names = [spec.name for spec in FIGURES]
    assert len(names) == len(set(names))
    with pytest.raises(ValueError, match="unknown figure need"):
        Needs(("a crystal ball",))


def test_adding_a_figure_is_adding_a_spec(tmp_path, run):
    """The drawing loop knows no figure by name: a new spec is drawn, expanded per
    recipe, or skipped with its reason, like the built-in ones."""

    def draw(inputs, title):
        fig = pyplot().figure()
        fig.suptitle(f"{title}: {len(inputs.models)} models")
        return fig

    specs = (
        FigureSpec("rows", "rows ({scored})", lambda i: f"{len(i.frame)} rows.", draw),
        FigureSpec("per", "{recipe}", "One per recipe.", draw, per_recipe=True),
        FigureSpec("never", "t", "c", draw, needs=Needs(("roc_curves",), "no ROC", "later")),
    )
    inputs = FigureInputs(
        run["df"], run["table"], run["models"], None, None, None, True, DrawOptions()
    )
    figures, skipped = draw_figures(specs, inputs, tmp_path, False, lambda *_: None)
    assert [f.name for f in figures] == ["rows", "per_standard", "per_hybrid"]
    assert figures[0].title == "SYNTHETIC data: rows (rows of held-out boreholes)"
    assert figures[0].caption == f"SYNTHETIC data (not LILY). {len(run['df'])} rows."
    assert figures[2].title == "SYNTHETIC data: hybrid"
    assert skipped == {"later": "no ROC"}
    assert all((tmp_path / f.file).is_file() for f in figures)


def test_downcore_logs(tmp_path, run):
    inputs = FigureInputs(
        run["df"], run["table"], run["models"], run["metrics"], None, None, True, DrawOptions()
    )
    # By default: the three boreholes with the most held-out rows.
    chosen = downcore_boreholes(inputs)
    held = set(run["metrics"]["evaluation"]["held_out_boreholes"])
    counts = run["df"]["Borehole_ID"].value_counts()
    assert len(chosen) == 3 and set(chosen) <= held
    assert counts[chosen[0]] == max(counts[b] for b in held)
    # Asked for: these, in this order, one file each.
    training = sorted(set(counts.index) - held)[0]
    asked = DrawOptions(boreholes=(chosen[2], training))
    inputs = FigureInputs(
        run["df"], run["table"], run["models"], run["metrics"], None, None, True, asked
    )
    figures, skipped = draw_figures((DOWNCORE,), inputs, tmp_path, False, lambda *_: None)
    assert [f.name for f in figures] == [f"downcore_{chosen[2]}", f"downcore_{training}"]
    assert figures[0].title == f"SYNTHETIC data: down-core log of borehole {chosen[2]}"
    assert "held out of training" in figures[0].caption and not skipped
    assert "a training borehole" in figures[1].caption
    # The semi-supervised model with the most active latent dimensions (first if tied).
    active = {
        m.name: run["metrics"]["subjects"][m.name]["latent"]["active_dims"] for m in run["models"]
    }
    shown = max(("semi_standard", "semi_hybrid"), key=active.get)
    assert f"predicted by {shown}'s classification head" in figures[0].caption


def test_downcore_log_labels_depth_clusters_and_colour(run):
    from lilyvae.report.figures import fig_downcore
    from lilyvae.report.figures.downcore import borehole_rows, stretched

    inputs = FigureInputs(
        run["df"], run["table"], run["models"], run["metrics"], None, None, True, DrawOptions()
    )
    borehole = downcore_boreholes(inputs)[0]
    fig = fig_downcore(inputs, borehole)
    assert fig.axes[0].get_ylabel() == "Depth CSF-A (m)"
    titles = [lg.get_title().get_text() for lg in fig.legends]
    assert titles == ["lithology group", "GMM cluster (in this borehole)"]
    numbers = [t.get_text() for t in fig.legends[1].get_texts()]
    assert numbers and all(n.isdigit() and 1 <= int(n) <= 4 for n in numbers)
    # No track has more than three labelled depth-axis ticks across it.
    fig.canvas.draw()
    for ax in fig.axes:
        lo, hi = sorted(ax.get_xlim())
        shown = [
            t for t in ax.get_xticklabels() if t.get_text() and lo <= t.get_position()[0] <= hi
        ]
        assert len(shown) <= 3
    # The measured colour strip is R, G, B (0-255) over 255; the stretched one spans
    # black to white while keeping each row's order of brightness.
    rgb = inputs.features[borehole_rows(inputs, borehole), 3:6] / 255.0
    strip = stretched(rgb)
    assert strip.min() == 0.0 and strip.max() == 1.0
    order = np.argsort(rgb.mean(axis=1), kind="stable")
    assert np.all(np.diff(strip.mean(axis=1)[order]) >= -1e-12)
    pyplot().close(fig)


def test_downcore_refuses_an_unknown_borehole_before_drawing(tmp_path, run):
    with pytest.raises(LilyVAEError, match=r"syn\.csv: no rows of borehole 'U9999Z'"):
        make_figures(tmp_path / "out", run["table"], run["models"], boreholes=["U9999Z"])
    assert not any((tmp_path / "out").glob("*.png"))
    args = build_parser().parse_args(["figures", "--run-dir", "r", "--boreholes", "A, B,"])
    assert args.boreholes == ("A", "B")


def test_schedule_marks_by_hand():
    # Beta ramps over three epochs then stays; the learning rate halves twice.
    history = {"beta": [0.0, 0.25, 0.5, 0.5, 0.5], "lr": [1e-3, 1e-3, 5e-4, 5e-4, 2.5e-4]}
    assert schedule_marks(history) == (3, [3, 5])
    # Still ramping at the last epoch: no end to mark; constant schedules: nothing.
    assert schedule_marks({"beta": [0.0, 0.1, 0.2], "lr": [1e-3] * 3}) == (None, [])
    assert schedule_marks({"beta": [1.0] * 3}) == (None, [])


def test_zero_shot_property_figure(tmp_path, run):
    """Drawn from properties.csv's columns: two embeddings and the baseline, intervals."""
    rng = np.random.default_rng(0)
    rows = []
    for i in range(12):
        row = {"table": "MAD", "variable": f"v{i}", "n_rows": 200 + i, "n_boreholes": 30}
        row |= {"n_test_rows": 50, "n_test_boreholes": 8}
        for p in ("unsup_hybrid", "semisup_hybrid", "features"):
            r2 = float(rng.uniform(-0.2, 0.9))
            row |= {f"{p}_r2": r2, f"{p}_r2_low": r2 - 0.1, f"{p}_r2_high": r2 + 0.1}
        rows.append(row | {"protocol": "boreholes"})
    result = make_figures(tmp_path, run["table"], properties=pd.DataFrame(rows))
    (figure,) = [f for f in result.figures if f.name == "zero_shot_properties"]
    assert (tmp_path / figure.file).is_file() and "12 LILY variables" in figure.caption
    assert "The axes span every point" in figure.caption


def test_zero_shot_property_axes_follow_the_data_and_mark_clipping():
    from lilyvae.report.figures.property_figures import fig_zero_shot_properties, r2_floor

    rng = np.random.default_rng(1)
    rows = []
    for i in range(40):
        row = {"table": "MAD", "variable": f"v{i}", "n_rows": 100, "protocol": "boreholes"}
        for p in ("unsup", "semisup", "features"):
            r2 = float(rng.uniform(-1.6, 0.9))  # below -1 is a real R2
            row |= {f"{p}_r2": r2, f"{p}_r2_low": r2 - 0.05, f"{p}_r2_high": r2 + 0.05}
        rows.append(row)
    frame = pd.DataFrame(rows)
    fig = fig_zero_shot_properties(frame)
    low = frame[[c for c in frame.columns if c.endswith("_r2")]].to_numpy().min()
    assert fig.floor == pytest.approx(low) and sum(fig.clipped) == 0
    assert fig.axes[0].get_xlim()[0] < low < -1  # not clipped at -1
    # One variable far below the bulk: the axes stop at a floor, the point is marked.
    frame.loc[0, "unsup_r2"] = -40.0
    fig = fig_zero_shot_properties(frame)
    assert -40 < fig.floor < low and fig.clipped[0] == 1
    assert fig.axes[0].get_xlim()[0] > -40
    labels = fig.axes[0].get_legend_handles_labels()[1]
    assert "clipped" in labels
    assert r2_floor(np.array([0.2, 0.5])) == 0.0  # 'worse than the mean' stays on the axes


def test_training_curves_keep_their_title_and_shade_the_warm_up(run):
    from lilyvae.report.figures import fig_training_curves
    from lilyvae.report.figures.training_curves import warming_up

    assert warming_up({"beta": [0.0, 0.5, 1.0, 1.0]}) == (1, 3)
    assert warming_up({"beta": [1.0, 1.0]}) is None
    fig = fig_training_curves(run["models"], "the title")
    assert fig.get_suptitle() == "the title"
    ramps = [m for m in run["models"] if warming_up(m.model.history or {}) is not None]
    totals = [ax.get_title() for ax in fig.axes if ax.get_title().startswith("total loss")]
    assert sum("beta-weighted" in t for t in totals) == len(ramps)
    pyplot().close(fig)


def test_the_umap_caption_names_the_grey_lithologies():
    from lilyvae.report.figures.umap_figure import UMAP_COLOURED, grey_lithologies

    labels = np.array([f"l{i}" for i in range(20) for _ in range(40 - i)], dtype=object)
    count, most = grey_lithologies(labels)
    assert count == 20 - UMAP_COLOURED and most == ["l15", "l16", "l17"]
    assert grey_lithologies(labels[labels == "l0"]) == (0, [])


def test_training_curves_draw_the_validation_curve_and_the_epoch_kept(data):
    from matplotlib.colors import same_color

    from lilyvae.report.figures import fig_training_curves
    from lilyvae.report.figures.training_curves import (
        BEST_STYLE,
        VALIDATION_COLOUR,
        _validation_text,
    )

    trained = train(data, model="semisupervised", epochs=3, early_stopping=1)
    models = [NamedModel("es", None, trained)]
    fig = fig_training_curves(models, "")
    (loss,) = [ax for ax in fig.axes if ax.get_title().startswith("total loss")]
    val = np.asarray(trained.history["val_loss"])
    drawn = [ln for ln in loss.get_lines() if same_color(ln.get_color(), VALIDATION_COLOUR)]
    assert len(drawn) == 1 and np.allclose(drawn[0].get_ydata(), val)
    kept = [ln for ln in loss.get_lines() if same_color(ln.get_color(), BEST_STYLE["color"])]
    assert [ln.get_xdata()[0] for ln in kept] == [
        trained.card.extra["early_stopping"]["best_epoch"]
    ]
    assert any(ax.get_title() == "validation balanced accuracy" for ax in fig.axes)
    assert "early stopping" in _validation_text(models)
    pyplot().close(fig)


def test_umap_layouts_and_mixtures_made_in_a_worker_process_are_those_made_here(run, monkeypatch):
    """The figures start the UMAP layouts and the models' mixtures in workers beside the
    other figures; they (seeded, one thread) are the same numbers as this process makes."""
    import lilyvae.report.figures.model_outputs as model_outputs
    import lilyvae.report.figures.umap_figure as umap_figure
    from lilyvae.workers import side_pool

    def inputs():
        options = DrawOptions(umap_rows=400)
        models = run["models"][-1:]
        return FigureInputs(run["df"], run["table"], models, None, None, None, True, options)

    here = inputs()
    beside = inputs()
    pool = side_pool()
    if pool is None:
        pytest.skip("one core: no worker process beside this one")
    # however few the rows
    monkeypatch.setattr(umap_figure, "SIDE_PROCESS_MIN_POINTS", 0)
    monkeypatch.setattr(model_outputs, "SIDE_PROCESS_MIN_ROWS", 0)
    assert umap_figure.start_umap_run(beside, pool)
    assert model_outputs.start_clusterings(beside, pool) == 1
    assert ("clustering_job", "semi_hybrid") in beside.memo

    ours, theirs = umap_figure.umap_run(here), umap_figure.umap_run(beside)
    np.testing.assert_array_equal(theirs.rows, ours.rows)
    assert theirs.layouts.keys() == ours.layouts.keys() == {"features", "semi_hybrid"}
    for name, layout in ours.layouts.items():
        np.testing.assert_array_equal(theirs.layouts[name], layout)
    (m,) = here.models
    ours, theirs = model_outputs.clustering(here, m), model_outputs.clustering(beside, m)
    np.testing.assert_array_equal(theirs.gmm.means_, ours.gmm.means_)
    np.testing.assert_array_equal(theirs.gmm.covariances_, ours.gmm.covariances_)
    rows = np.arange(len(here.frame))
    np.testing.assert_array_equal(
        model_outputs.clusters_of(beside, m, rows), model_outputs.clusters_of(here, m, rows)
    )


def test_umap_kernels_are_cached_on_disk_and_lay_out_the_same():
    """umap-learn compiles its graph and layout kernels without numba's disk cache;
    the figures turn it on, so a later process loads them instead of compiling them
    again (seconds of every report), and lays out the same rows to the same bytes.
    They import umap without pynndescent (24 s of compiling on a machine's first run):
    the layout is the same as with umap imported plainly, and pynndescent is not
    imported; the one thing asked of it unimported holds of the real one."""
    import subprocess
    import sys

    script = (
        "import hashlib, sys, numpy as np\n"
        "if sys.argv[1] == 'plain':\n"
        "    import pynndescent.distances\n"
        "    assert 'euclidean' in pynndescent.distances.named_distances\n"
        "from lilyvae.report.figures.umap_figure import import_umap, umap_layouts\n"
        "X = np.random.default_rng(0).normal(size=(300, 10)).astype(np.float32)\n"
        "print(hashlib.sha256(umap_layouts({'a': X})['a'].tobytes()).hexdigest())\n"
        "layouts, umap_ = import_umap().layouts, import_umap().umap_\n"
        "kernels = [umap_.smooth_knn_dist, umap_.compute_membership_strengths,\n"
        "           layouts._nb_optimize_layout_euclidean_single_epoch]\n"
        "print(all(k.stats.cache_hits for k in kernels))\n"
        "print('pynndescent' in sys.modules)\n"
    )

    def layout(how: str) -> list[str]:
        done = subprocess.run(
            [sys.executable, "-c", script, how], capture_output=True, text=True, check=True
        )
        return done.stdout.split()

    first = layout("plain")  # compiles the kernels, or loads them from an earlier run
    digest, loaded, pynndescent = layout("deferred")
    assert loaded == "True"  # every kernel came from the disk cache
    assert digest == first[0]
    assert pynndescent == "False"


def test_figures_drawn_beside_are_the_same_files_in_the_same_order(run, tmp_path, monkeypatch):
    """On a large table, half the figures are drawn in a worker process while this one
    draws the rest: the same PNG bytes, the same manifest, as drawn all here."""
    import lilyvae.report.figures.all_figures as all_figures
    from lilyvae.workers import side_pool

    if side_pool() is None:
        pytest.skip("one core: no worker process beside this one")
    args = (run["df"], run["models"], run["metrics"])
    monkeypatch.setattr(all_figures, "BESIDE_MIN_ROWS", 10**12)  # all here
    here = make_figures(tmp_path / "here", *args, synthetic=True)
    lines: list[str] = []
    monkeypatch.setattr(all_figures, "BESIDE_MIN_ROWS", 0)
    monkeypatch.setattr("builtins.print", lambda *a, **k: lines.append(" ".join(map(str, a))))
    beside = make_figures(tmp_path / "beside", *args, synthetic=True, quiet=False)
    assert sum(line.endswith(", beside)") for line in lines) >= len(all_figures.DRAWN_BESIDE)
    assert [f.name for f in beside.figures] == [f.name for f in here.figures]
    assert beside.skipped == here.skipped
    import re

    def untimed(caption: str) -> str:  # the UMAP caption says how long it took
        return re.sub(r"took [\d.]+ s", "took - s", caption)

    for a, b in zip(here.figures, beside.figures, strict=True):
        assert (a.title, untimed(a.caption)) == (b.title, untimed(b.caption))
        assert (here.output_dir / a.file).read_bytes() == (beside.output_dir / b.file).read_bytes()
