"""Rows without colour downstream: embeddings, the evaluation's three groups, 'mask'
against 'drop' with intervals, coverage in figures and the report."""

import json
from dataclasses import asdict

import numpy as np
import pandas as pd
import pytest
from cli_helpers import run

from lilyvae.data.schema import FEATURE_COLS
from lilyvae.data.splits import split_boreholes
from lilyvae.data.tables import training_data_from_frame
from lilyvae.evaluation import (
    EvalConfig,
    evaluate,
    markdown_report,
    summary_text,
    write_metrics,
)
from lilyvae.evaluation.missing import compare_modes
from lilyvae.model.embeddings import as_named_models, embed_table
from lilyvae.report.figures import DrawOptions, FigureInputs
from lilyvae.report.figures.all_figures import draw_figures
from lilyvae.report.figures.coverage import COVERAGE
from lilyvae.report.run_report import build_report
from lilyvae.runs.demo import write_synthetic_borehole_table
from lilyvae.synthetic.generator import write_synthetic_table
from lilyvae.training.trainer import train

CONFIG = EvalConfig(svm_train_rows=300, svm_test_rows=200, gmm_components=3, gmm_rows=300)


@pytest.fixture(scope="module")
def partial_run(tmp_path_factory):
    """A SYNTHETIC table with bins without colour, and 'drop' and 'mask' models of two
    seeds each, saved, holding out the same boreholes."""
    root = tmp_path_factory.mktemp("missing_run")
    table = write_synthetic_table(root / "partial.csv", rows=2000, seed=4, partial=True)
    write_synthetic_borehole_table(table)
    df = pd.read_csv(table)
    data = training_data_from_frame(df, source=str(table), keep_partial=True)
    split = split_boreholes(data, 0.25, 0)
    paths = {}
    for missing in ("drop", "mask"):
        for seed in (1, 2):
            trained = train(
                data, model="unsupervised", epochs=2, seed=seed, missing=missing, split=split
            )
            paths[f"{missing}{seed}"] = root / "models" / f"{missing}{seed}.pt"
            trained.save(paths[f"{missing}{seed}"])
    specs = [f"{name}={path}" for name, path in paths.items()]
    metrics = evaluate(specs, table, CONFIG)
    return {"root": root, "table": table, "df": df, "specs": specs, "metrics": metrics}


def test_mask_models_embed_rows_without_colour_drop_models_say_how_many(partial_run, capsys):
    df, specs = partial_run["df"], partial_run["specs"]
    result = embed_table(df, specs[1:3], output=partial_run["root"] / "e.csv")  # drop2, mask1
    no_colour = df["R"].isna().to_numpy()
    assert no_colour.any() and result.rows_partial == no_colour.sum()
    assert result.without_embedding == {"drop2": int(no_colour.sum()), "mask1": 0}
    assert result.missing == {"drop2": "drop", "mask1": "mask"}
    columns = [f"mask1_emb_{i}" for i in range(10)]
    assert np.isfinite(result.table[columns].to_numpy()).all()
    drop = result.table[[f"drop2_emb_{i}" for i in range(10)]].to_numpy()
    assert np.isnan(drop[no_colour]).all() and np.isfinite(drop[~no_colour]).all()
    code, stdout, _ = run(
        ["embed", "--data", partial_run["table"], "--model", specs[0], "--model", specs[2]]
        + ["--output", partial_run["root"] / "emb.parquet"],
        capsys,
    )
    assert code == 0
    assert f"drop1: {no_colour.sum():,} rows have NaN embeddings" in stdout
    assert "mask1:" not in stdout


def test_three_groups_on_held_out_boreholes(partial_run):
    section = partial_run["metrics"]["missing_colour"]
    df = partial_run["df"]
    card = json.loads((partial_run["root"] / "models" / "mask1.meta.json").read_text())
    held = df["Borehole_ID"].isin(card["split"]["holdout_boreholes"])
    counts = section["held_out_rows"]
    assert counts["complete"] == counts["colour_hidden"] == (held & df["R"].notna()).sum() > 0
    assert counts["without_colour"] == (held & df["R"].isna()).sum() > 0
    subjects = section["subjects"]
    assert list(subjects) == ["features", "drop1", "drop2", "mask1", "mask2"]
    for name in ("drop1", "drop2"):
        groups = subjects[name]["groups"]
        assert groups["complete"]["embedded"] == counts["complete"]
        assert "balanced_accuracy" in groups["complete"]["linear"]
        for group in ("without_colour", "colour_hidden"):
            assert groups[group]["embedded"] == 0 and "no embedding" in groups[group]["note"]
    for name in ("mask1", "mask2"):
        groups = subjects[name]["groups"]
        assert all(groups[g]["embedded"] == counts[g] for g in counts)
        assert set(groups["complete"]["r2"]) == set(groups["colour_hidden"]["r2"])
        assert set(groups["without_colour"]["r2"]) == {"GRA", "MS", "NGR"}
        assert 0 <= groups["without_colour"]["linear"]["balanced_accuracy"] <= 1
        assert groups["colour_hidden"]["embedding_shift"] > 0
        assert all(np.isfinite(v) for v in groups["colour_hidden"]["r2"].values())
    baseline = subjects["features"]["groups"]
    assert set(baseline["colour_hidden"]["r2"]) == {"R", "G", "B"}
    assert baseline["without_colour"]["linear"]["test_rows"] > 0


def test_mask_against_drop_with_intervals_over_seeds(partial_run):
    comparisons = partial_run["metrics"]["missing_colour"]["comparisons"]
    metrics = {c["metric"] for c in comparisons}
    assert metrics == {"linear balanced accuracy", "mean R2 of the six inputs"}  # no head
    for c in comparisons:
        assert c["interval"] == "paired by seed (2 seeds)"
        assert c["low"] is None and c["verdict"].startswith("no interval, no verdict")
        assert c["difference"] == pytest.approx(c["mask_mean"] - c["drop_mean"])


def _subject(missing, seed, value):
    groups = {"complete": {"linear": {"balanced_accuracy": value}}}
    return {"kind": "unsupervised", "recipe": "standard", "missing": missing, "seed": seed} | {
        "groups": groups
    }


def test_a_verdict_only_where_the_interval_excludes_zero():
    clear = {
        f"{m}{s}": _subject(m, s, v)
        for m, s, v in [("drop", 1, 0.50), ("drop", 2, 0.52), ("drop", 3, 0.51)]
        + [("mask", 1, 0.40), ("mask", 2, 0.43), ("mask", 3, 0.41)]
    }
    (c,) = compare_modes(clear)
    assert c["verdict"] == "mask lower" and c["high"] < 0
    assert c["interval"] == "paired by seed (3 seeds)"
    noisy = clear | {"mask3": _subject("mask", 3, 0.70)}
    assert compare_modes(noisy)[0]["verdict"].startswith("no difference shown")
    unpaired = clear | {"mask4": _subject("mask", 4, 0.42)}
    (c,) = compare_modes(unpaired)
    assert c["interval"] == "unpaired (Welch)" and c["verdict"] == "mask lower"
    two = {k: v for k, v in clear.items() if not k.endswith("3")}
    (c,) = compare_modes(two)  # two seeds give no interval (the ensembles' rule)
    assert c["low"] is None and c["verdict"].startswith("no interval, no verdict")
    assert compare_modes({"drop1": _subject("drop", 1, 0.5)}) == []


def test_coverage_counts_and_tables(partial_run):
    metrics, df = partial_run["metrics"], partial_run["df"]
    cov = metrics["missing_colour"]["coverage"]
    no_colour = df["R"].isna()
    assert cov["rows_without_colour"] == no_colour.sum() and cov["rows"] == len(df)
    unscanned = df.groupby("Borehole_ID")["R"].apply(lambda r: r.isna().all())
    assert cov["boreholes_without_any_colour"] == unscanned.sum() == 220
    drop, mask = cov["models"]["drop1"], cov["models"]["mask1"]
    assert (
        drop["rows_not_embedded"] == no_colour.sum() and drop["rows_embedded_without_colour"] == 0
    )
    assert (
        mask["rows_not_embedded"] == 0 and mask["boreholes_embedded"] == df["Borehole_ID"].nunique()
    )
    assert mask["boreholes_embedded_without_colour_only"] == 220
    text = markdown_report(metrics)
    for title in (
        "Coverage: bins and boreholes embedded with and without colour",
        "What a missing colour scan costs (held-out boreholes)",
        "'mask' against 'drop' on complete rows (intervals over seeds)",
    ):
        assert f"## {title}" in text
    assert "SYNTHETIC data." in text.split("## Coverage")[1]
    summary = summary_text(metrics)
    assert "missing colour (held-out rows): complete" in summary
    assert "unsupervised/standard linear balanced accuracy: mask - drop" in summary


def test_coverage_figure_and_report_section(partial_run, tmp_path):
    run_dir = tmp_path / "run"
    metrics = partial_run["metrics"]
    write_metrics(metrics, run_dir)
    # The coverage figure alone (make_figures draws it among the others; UMAP is slow).
    table, models = partial_run["df"], as_named_models(partial_run["specs"])
    inputs = FigureInputs(
        table, partial_run["table"], models, metrics, None, None, True, DrawOptions()
    )
    out = run_dir / "figures"
    out.mkdir()
    (coverage,), skipped = draw_figures((COVERAGE,), inputs, out, False, lambda *_: None)
    assert coverage.title.startswith("SYNTHETIC") and "220 have no colour scan" in coverage.caption
    assert (out / "coverage.png").stat().st_size > 10_000 and not skipped
    (out / "figures.json").write_text(json.dumps({"figures": [asdict(coverage)], "skipped": {}}))
    html = build_report(run_dir).read_text()
    section = html.split('<h2 id="coverage">')[1].split("<h2")[0]
    assert "bins without colour" in section and 'href="#fig-coverage"' in section
    assert 'id="fig-coverage"' in html
    bare = FigureInputs(table, partial_run["table"], [], None, None, None, True, DrawOptions())
    assert draw_figures((COVERAGE,), bare, out, False, print)[1] == {
        "coverage": "no models: nothing is embedded"
    }


def test_complete_tables_score_hidden_colour_too(data):
    """On a table without missing colour, the groups still score hidden colour."""
    trained = train(data, model="unsupervised", epochs=1, missing="mask")
    section = evaluate({"m": trained}, data, CONFIG)["missing_colour"]
    assert section["held_out_rows"]["without_colour"] == 0
    assert section["subjects"]["m"]["groups"]["colour_hidden"]["embedded"] > 0
    assert section["coverage"]["rows_without_colour"] == 0
    assert section["comparisons"] == []
    values = data.features[:5].copy()
    values[:, 3:] = np.nan
    assert np.isfinite(trained.embed(values)).all()
    assert FEATURE_COLS[3:] == ("R", "G", "B")
