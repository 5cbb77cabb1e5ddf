"""The main job: the whole pipeline on a small synthetic table, every output in place."""

import json

import pandas as pd
import pytest

from lilyvae.cli.main import build_parser
from lilyvae.errors import LilyVAEError
from lilyvae.evaluation import EvalConfig
from lilyvae.runs.demo import run_demo, semi_vs_unsupervised, write_synthetic_borehole_table
from lilyvae.runs.demo_settings import DEMO_SEEDS, RUNS
from lilyvae.runs.seeds import comparison_lines


def test_demo_runs_the_whole_pipeline(tmp_path, capsys):
    config = EvalConfig(svm_train_rows=500, svm_test_rows=300, gmm_components=4, gmm_rows=500)
    result = run_demo(tmp_path, epochs=1, quiet=True, rows=4000, umap_rows=300, eval_config=config)
    printed = capsys.readouterr()
    # --quiet: no progress (stage lines, per-model lines, epoch lines), the results only.
    assert "done in" not in printed.out and "trained unsup_standard" not in printed.out
    assert "epoch" not in printed.err
    printed = printed.out
    assert "SYNTHETIC" in printed and f"report: {result.report}" in printed
    # The final summary only: the verdicts per recipe, where the summary and report are.
    lines = printed.splitlines()
    # banner, 2 recipes, the new core, summary, finished, report
    assert len(lines) <= 2 + 2 + 4, printed
    assert [ln.split(":")[0].strip() for ln in lines[1:3]] == ["standard", "hybrid"]
    assert any(ln.startswith("new SYNTHETIC core ") for ln in lines), printed
    assert all("svm " in ln and "linear " in ln for ln in lines[1:3])
    assert "median R2" not in printed and "mode:" not in printed
    assert result.report == tmp_path / "report.html" and result.report.is_file()

    data = tmp_path / "data"
    assert (data / "synthetic_lily_20cm.csv").is_file()
    assert (data / "synthetic_lily_20cm.synthetic.json").is_file()
    boreholes = pd.read_csv(data / "synthetic_lily_20cm.boreholes.csv")
    assert list(boreholes.columns) == [
        "Borehole_ID",
        "latitude",
        "longitude",
        "water_depth_m",
        "rows",
        "min_depth_m",
        "max_depth_m",
    ]
    for _, _, name in RUNS:
        for suffix in (".pt", ".json", ".meta.json"):
            assert (tmp_path / "models" / f"{name}{suffix}").is_file()
        card = json.loads((tmp_path / "models" / f"{name}.meta.json").read_text())
        assert card["split"]["holdout_boreholes"]  # trained with held-out boreholes
        if name.startswith("semisup"):
            assert card["labels_withheld"]["classes"]

    emb = pd.read_parquet(tmp_path / "embeddings.parquet")
    assert len(emb) == 4000
    assert all(f"{name}_emb_9" in emb.columns for _, _, name in RUNS)

    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["synthetic"] is True
    assert metrics["evaluation"]["mode"] == "held-out boreholes"
    assert set(metrics["subjects"]) == {"features"} | {name for _, _, name in RUNS}
    for name in ("semisup_standard", "semisup_hybrid"):
        assert metrics["subjects"][name]["zero_shot"]["encoder_saw_labels"] is False
    assert (tmp_path / "metrics.md").is_file() and (tmp_path / "roc_curves.json").is_file()

    manifest = json.loads((tmp_path / "figures" / "figures.json").read_text())
    names = {f["name"] for f in manifest["figures"]}
    assert {
        "borehole_map",
        "umap",
        "roc",
        "zero_shot",
        "reconstruction_standard",
        "reconstruction_hybrid",
        "prior_samples",
        "training_curves",
        "latent_kl",
        "group_confusion",
        "class_recall",
        "zero_shot_properties",
        "reliability",
    } <= names
    assert len([n for n in names if n.startswith("downcore_")]) == 3
    assert manifest["explorer"]["rows"] == 300
    properties = pd.read_csv(tmp_path / "properties" / "properties.csv")
    assert {"unsup_hybrid_r2", "semisup_hybrid_r2", "features_r2"} <= set(properties.columns)
    assert (properties["protocol"] == "boreholes").all()
    summary = (tmp_path / "summary.txt").read_text()
    assert "SYNTHETIC" in summary and "semi-supervised vs unsupervised" in summary
    assert f"over {DEMO_SEEDS} seeds" in summary and "95% interval" in summary
    assert "zero-shot property prediction" in summary and "median R2" in summary

    # Every model with 5 seeds, trained as packs; the first seed's is the model above.
    seeds = json.loads((tmp_path / "seeds.json").read_text())
    assert seeds["synthetic"] is True and set(seeds["models"]) == {n for _, _, n in RUNS}
    for _, _, name in RUNS:
        model = seeds["models"][name]
        assert model["seeds"] == [42, 43, 44, 45, 46]
        for s in model["seeds"][1:]:
            card = json.loads(
                (tmp_path / "models" / "seeds" / f"{name}_seed{s}.meta.json").read_text()
            )
            assert card["seed"] == s and card["data"]["synthetic"] is True
            assert bool(card.get("labels_withheld")) == name.startswith("semisup")
        svm = model["metrics"]["svm_balanced_accuracy"]
        first = metrics["subjects"][name]["svm"]["balanced_accuracy"]
        assert svm["n"] == DEMO_SEEDS and svm["values"][0] == pytest.approx(first)
        assert 0.0 <= svm["low"] <= svm["mean"] <= svm["high"] <= 1.0
    assert {c["label"] for c in seeds["comparisons"]} == {"standard", "hybrid"}
    assert 'id="seeds"' in result.report.read_text()

    _check_new_core(tmp_path, result, metrics)

    assert set(result.stage_seconds) == {"data", "training", "scoring", "figures", "report"}
    # the scoring stage's parts, side by side, are in the summary
    summary = (tmp_path / "summary.txt").read_text()
    assert "scoring, side by side: new core and embeddings" in summary
    assert "other seeds (workers)" in summary and "properties (worker)" in summary


def _check_new_core(root, result, metrics):
    """The held-back borehole: never trained on, out of the calibration, predicted with
    every output; evaluate scores the calibrated model; the report shows it."""
    record = json.loads((root / "new_core" / "new_core.json").read_text())
    core = record["borehole"]
    sidecar = json.loads((root / "data" / "synthetic_lily_20cm.synthetic.json").read_text())
    assert core == sidecar["novel_interval"]["borehole"] and record["synthetic"] is True
    card = json.loads((root / "models" / "semisup_hybrid.meta.json").read_text())
    assert core in card["split"]["holdout_boreholes"]
    calibration = json.loads((root / "models" / "semisup_hybrid.calibration.json").read_text())
    fitted_on = calibration["measured"]["boreholes"]
    assert core not in fitted_on["fit"] and core not in fitted_on["check"]
    for name in ("core.csv", "prediction.csv", "prediction.las", "intervals.csv"):
        assert (root / "new_core" / name).is_file(), name
    assert (root / "new_core" / "prediction.png").stat().st_size > 0
    las = (root / "new_core" / "prediction.las").read_text()
    assert "SYNTHETIC" in las
    prediction = pd.read_csv(root / "new_core" / "prediction.csv")
    assert (prediction["Borehole_ID"].astype(str) == core).all()
    novelty = record["novelty"]
    assert novelty["flagged_inside"] > novelty["flagged_outside"]
    assert record["blind_well"]["scored_bins"] > 0

    p = metrics["subjects"]["semisup_hybrid"]["probabilities"]
    assert p["calibrated"] is True and "auroc" in p["novelty"]
    assert metrics["subjects"]["semisup_standard"]["probabilities"]["calibrated"] is False
    page = result.report.read_text()
    assert 'id="new-core"' in page and "Calibration before and after" in page
    assert "Novelty flags" in page and f"down-core prediction of {core}" in page


def test_demo_flags():
    args = build_parser().parse_args(
        ["demo", "--output-dir", "x", "--holdout-boreholes", "0.3", "--pdf", "--umap-rows", "99"]
    )
    assert (args.holdout_boreholes, args.pdf, args.umap_rows) == (0.3, True, 99)
    args = build_parser().parse_args(["demo"])
    assert (args.holdout_boreholes, args.pdf, args.umap_rows) == (0.2, False, 3000)


def test_semi_vs_unsupervised_gives_a_verdict_only_where_intervals_separate():
    def subject(svm, linear):
        return {"svm": {"balanced_accuracy": svm}, "linear": {"balanced_accuracy": linear}}

    seeds = [42, 43, 44, 45, 46]
    subjects = {
        # standard: one seed would say "unsupervised higher" (0.09 < 0.10); five overlap
        "unsup_standard": [subject(0.10 + d, 0.12) for d in (0, 0.02, -0.02, 0.01, -0.01)],
        "semisup_standard": [subject(0.09 + d, 0.12) for d in (0, 0.02, -0.02, 0.01, -0.01)],
        # hybrid: semi-supervised clearly higher on the SVM
        "unsup_hybrid": [subject(0.12 + d, 0.17) for d in (0, 0.002, -0.002, 0.001, -0.001)],
        "semisup_hybrid": [subject(0.17 + d, 0.17) for d in (0, 0.002, -0.002, 0.001, -0.001)],
    }
    result = semi_vs_unsupervised(subjects, seeds)
    verdicts = {(c["label"], c["metric"]): c["verdict"] for c in result["comparisons"]}
    assert verdicts[("standard", "svm_balanced_accuracy")] == "no clear difference"
    assert verdicts[("hybrid", "svm_balanced_accuracy")] == "semisup_hybrid higher"
    # equal values: the intervals touch, which is no separation
    assert verdicts[("hybrid", "linear_balanced_accuracy")] == "no clear difference"
    svm = result["models"]["semisup_hybrid"]["metrics"]["svm_balanced_accuracy"]
    assert svm["n"] == 5 and svm["low"] < 0.17 < svm["high"] and svm["values"][0] == 0.17
    assert result["synthetic"] is True and result["format"] == "lilyvae-seeds"
    lines = comparison_lines(result)
    assert lines[0].startswith("SYNTHETIC data: held-out balanced accuracy over 5 seeds")
    assert any("hybrid" in line and "semisup_hybrid higher" in line for line in lines)

    # Two seeds give no interval, and so no verdict.
    two = semi_vs_unsupervised({k: v[:2] for k, v in subjects.items()}, seeds[:2])
    assert all(c["verdict"].startswith("no verdict: fewer than 3") for c in two["comparisons"])
    assert "no interval (n=2)" in "\n".join(comparison_lines(two))
    # A run without a pair of models has nothing to compare.
    assert (
        semi_vs_unsupervised({"unsup_hybrid": subjects["unsup_hybrid"]}, seeds)["comparisons"] == []
    )


def test_borehole_table_needs_the_sidecar(tmp_path):
    table = tmp_path / "t.csv"
    table.write_text("Borehole_ID,Depth_Bin\na,0.2\n", encoding="utf-8")
    with pytest.raises(LilyVAEError, match=r"t\.synthetic\.json: no synthetic sidecar"):
        write_synthetic_borehole_table(table)
    assert not (tmp_path / "t.boreholes.csv").exists()
