"""What ``evaluate`` says when a model cannot be scored as asked, or only in-sample."""

from __future__ import annotations

import json
from pathlib import Path

from cli_helpers import run

from lilyvae.training.trainer import train

REFERENCE_UNSUP = Path(__file__).resolve().parents[1] / "fixtures/reference_checkpoints/unsup.pt"
SMALL = ["--svm-train-rows", "300", "--svm-test-rows", "200", "--gmm-components", "3"]
SMALL += ["--gmm-rows", "300", "--quiet"]


def test_withheld_lithologies_the_table_lacks_point_to_the_flag(data, small_csv, tmp_path, capsys):
    trained = train(data, model="unsupervised", epochs=1)
    withheld = {"classes": ["no such rock", "nor this one"]}
    trained.card = trained.card.with_extra(labels_withheld=withheld)
    model = tmp_path / "m.pt"
    trained.save(model)
    args = ["evaluate", "--model", model, "--data", small_csv, "--output-dir", tmp_path / "ev"]
    code, _, err = run(args + SMALL, capsys)
    assert code == 1 and len(err) == 1
    assert "the labels withheld from the semi-supervised models include 2 lithologies" in err[0]
    assert "'no such rock', 'nor this one'" in err[0] and "--zero-shot-classes" in err[0]
    assert not (tmp_path / "ev").exists()


def test_an_adopted_model_is_scored_in_sample_and_says_so(small_csv, tmp_path, capsys):
    model = tmp_path / "adopted.pt"
    args = ["adopt", "--checkpoint", REFERENCE_UNSUP, "--model", "unsupervised"]
    code, _, err = run(args + ["--data", small_csv, "--output", model], capsys)
    assert code == 0, err
    out = tmp_path / "ev"
    args = ["evaluate", "--model", model, "--data", small_csv, "--output-dir", out]
    code, stdout, err = run(args + SMALL, capsys)
    assert code == 0, err
    loud = "IN-SAMPLE: this model records no held-out boreholes"
    assert f"WARNING: unsup: {loud}" in stdout and "it was adopted" in stdout
    assert loud in (out / "metrics.md").read_text()
    evaluation = json.loads((out / "metrics.json").read_text())["evaluation"]
    assert evaluation["mode"] == "IN-SAMPLE"
    assert any(loud in w and "adopted" in w for w in evaluation["warnings"])


def test_every_in_sample_model_is_named(data, small_csv, tmp_path, capsys):
    paths = []
    for seed in (1, 2):
        paths.append(tmp_path / f"m{seed}.pt")
        train(data, model="unsupervised", epochs=1, seed=seed).save(paths[-1])
    args = ["evaluate", "--model", f"a={paths[0]}", "--model", f"b={paths[1]}"]
    code, stdout, err = run(
        args + ["--data", small_csv, "--output-dir", tmp_path / "ev", *SMALL], capsys
    )
    assert code == 0, err
    for name in ("a", "b"):
        assert f"WARNING: {name}: IN-SAMPLE: this model records no held-out boreholes" in stdout
