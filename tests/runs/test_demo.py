"""The main job: the whole pipeline on a small synthetic table, every output in place."""

import json

import pandas as pd
import pytest

from lilyvae.analysis.evaluation import EvalConfig
from lilyvae.cli.main import build_parser
from lilyvae.errors import LilyVAEError
from lilyvae.runs.demo import RUNS, run_demo, semi_vs_unsupervised, write_synthetic_borehole_table


def test_demo_runs_the_whole_pipeline(tmp_path, capsys):
    config = EvalConfig(svm_train_rows=500, svm_test_rows=300, gmm_components=4, gmm_rows=500)
    result = run_demo(tmp_path, epochs=1, quiet=True, rows=4000, umap_rows=300, eval_config=config)
    printed = capsys.readouterr()
    # --quiet: no progress (stage lines, per-model lines, epoch lines), the results only.
    assert "done in" not in printed.out and "trained unsup_standard" not in printed.out
    assert "epoch" not in printed.err
    printed = printed.out
    assert "SYNTHETIC" in printed and f"report: {result.report}" in printed
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
    } <= names
    assert len([n for n in names if n.startswith("downcore_")]) == 3
    assert manifest["explorer"]["rows"] == 300
    properties = pd.read_csv(tmp_path / "properties" / "properties.csv")
    assert {"unsup_hybrid_r2", "semisup_hybrid_r2", "features_r2"} <= set(properties.columns)
    assert (properties["protocol"] == "boreholes").all()
    summary = (tmp_path / "summary.txt").read_text()
    assert "SYNTHETIC" in summary and "semi-supervised vs unsupervised" in summary

    assert set(result.stage_seconds) == {
        "data",
        "training",
        "embeddings",
        "evaluation",
        "properties",
        "figures",
        "report",
    }


def test_demo_flags():
    args = build_parser().parse_args(
        ["demo", "--output-dir", "x", "--holdout-boreholes", "0.3", "--pdf", "--umap-rows", "99"]
    )
    assert (args.holdout_boreholes, args.pdf, args.umap_rows) == (0.3, True, 99)
    args = build_parser().parse_args(["demo"])
    assert (args.holdout_boreholes, args.pdf, args.umap_rows) == (0.2, False, 3000)


def test_semi_vs_unsupervised_names_the_higher_one():
    def subject(svm, linear):
        return {"svm": {"balanced_accuracy": svm}, "linear": {"balanced_accuracy": linear}}

    metrics = {
        "subjects": {
            "unsup_standard": subject(0.10, 0.12),
            "semisup_standard": subject(0.09, 0.13),
            "unsup_hybrid": subject(0.12, 0.17),
            "semisup_hybrid": subject(0.17, 0.19),
        }
    }
    standard, hybrid = semi_vs_unsupervised(metrics)
    assert "svm 0.090 vs 0.100 (unsupervised higher)" in standard
    assert "linear 0.130 vs 0.120 (semi-supervised higher)" in standard
    assert hybrid.strip().startswith("hybrid") and "unsupervised higher" not in hybrid
    # A run without a pair of models has nothing to compare.
    assert semi_vs_unsupervised({"subjects": {"unsup_hybrid": subject(0.1, 0.1)}}) == []


def test_borehole_table_needs_the_sidecar(tmp_path):
    table = tmp_path / "t.csv"
    table.write_text("Borehole_ID,Depth_Bin\na,0.2\n", encoding="utf-8")
    with pytest.raises(LilyVAEError, match=r"t\.synthetic\.json: no synthetic sidecar"):
        write_synthetic_borehole_table(table)
    assert not (tmp_path / "t.boreholes.csv").exists()
