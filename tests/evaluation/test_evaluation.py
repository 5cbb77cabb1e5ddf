"""Evaluation: held-out scoring by construction, loud in-sample mode, every metric, bad input."""

import json
import math

import numpy as np
import pytest

from lilyvae.cli import main
from lilyvae.data.lithology import UNLISTED, lithology_groups
from lilyvae.data.schema import LABEL_COL
from lilyvae.data.splits import split_boreholes
from lilyvae.errors import LilyVAEError
from lilyvae.evaluation import (
    EvalConfig,
    classification_scores,
    evaluate,
    markdown_report,
    read_metrics,
    resolve_split,
    scoring_rows,
    write_metrics,
)
from lilyvae.evaluation.groups import class_recall, group_of, group_scores, groups_of
from lilyvae.model.embeddings import NamedModel
from lilyvae.synthetic.generator import write_synthetic_table
from lilyvae.training.trainer import train

SMALL = EvalConfig(svm_train_rows=600, svm_test_rows=300, gmm_components=4, gmm_rows=500)


@pytest.fixture(scope="module")
def split(data):
    return split_boreholes(data, 0.25, seed=3)


@pytest.fixture(scope="module")
def models(tmp_path_factory, data, split):
    root = tmp_path_factory.mktemp("eval_models")
    out = []
    for kind, name in (("unsupervised", "unsup"), ("semisupervised", "semisup")):
        trained = train(data, model=kind, recipe="hybrid", epochs=2, split=split)
        trained.save(root / f"{name}.pt")
        out.append(NamedModel(name, root / f"{name}.pt", trained))
    return out


@pytest.fixture(scope="module")
def metrics(models, data):
    return evaluate(models, data, SMALL)


def test_scores_held_out_boreholes(metrics, data, split, models):
    ev = metrics["evaluation"]
    assert ev["mode"] == "held-out boreholes"
    assert set(ev["held_out_boreholes"]) <= set(split.holdout)
    test = split.holdout_mask(data.boreholes)
    assert ev["rows_test"] == int(test.sum())
    # The downstream models' fitting rows never come from a held-out borehole.
    cache = scoring_rows(resolve_split(data, models[0].model.card.split, SMALL), data, SMALL)
    assert not test[cache.svm_train].any() and not test[cache.gmm_fit].any()
    assert test[cache.svm_test].all() and test[cache.lab_test].all()
    assert ev["svm_train_rows"] == 600 and ev["svm_test_rows"] == 300
    assert ev["config"]["seed"] == 0


def test_every_metric_present(metrics):
    subjects = metrics["subjects"]
    assert list(subjects) == ["features", "unsup", "semisup"]
    for name, s in subjects.items():
        for clf in ("svm", "linear"):
            for key in ("accuracy", "balanced_accuracy", "macro_f1"):
                assert 0 <= s[clf][key] <= 1
            assert len(s[clf]["roc_auc"]) == 10
            assert s[clf]["mean_roc_auc"] is None or 0 <= s[clf]["mean_roc_auc"] <= 1
        assert -1 <= s["clustering"]["ari"] <= 1
        zs = s["zero_shot"]
        assert 0 <= zs["nearest_centroid_accuracy"] <= 1 and zs["compactness"] > 0
        if name == "features":
            assert "reconstruction_r2" not in s and "latent" not in s
            continue
        assert set(s["reconstruction_r2"]) == {"GRA", "MS", "NGR", "R", "G", "B"}
        lat = s["latent"]
        assert len(lat["kl_per_dim"]) == 10 and 0 <= lat["active_dims"] <= 10
    for s in subjects.values():
        for clf in ("svm", "linear"):
            assert 0 <= s[clf]["group_balanced_accuracy"] <= 1
            assert s[clf]["group_accuracy"] >= s[clf]["accuracy"]  # a right class: right group
            assert len(s[clf]["top_class_recall"]) == 10
    assert "group_accuracy" in subjects["semisup"]["head"]
    assert "head" in subjects["semisup"] and "head" not in subjects["unsup"]
    assert subjects["semisup"]["zero_shot"]["encoder_saw_labels"] is True
    assert subjects["unsup"]["zero_shot"]["encoder_saw_labels"] is False


def test_files(tmp_path, metrics):
    paths = write_metrics(metrics, tmp_path)
    on_disk = json.loads(paths["metrics"].read_text())  # strict JSON: no NaN
    assert "_roc_curves" not in on_disk and on_disk["synthetic"] is False
    assert read_metrics(tmp_path)["subjects"].keys() == metrics["subjects"].keys()
    md = paths["markdown"].read_text()
    for title in (
        "Lithology classification",
        "Lithology-group classification (14 groups)",
        "SVM recall per lithology",
        "SVM group bal. acc",
        "Reconstruction R2",
        "GMM ARI",
        "Zero-shot",
    ):
        assert title in md
    roc = json.loads(paths["roc_curves"].read_text())
    curve = next(iter(roc["subjects"]["semisup"]["svm"].values()))
    assert len(curve["tpr"]) == len(roc["fpr"]) == 101


def test_in_sample_is_loud(data, small_frame):
    trained = train(data, model="unsupervised", recipe="hybrid", epochs=1)
    m = evaluate({"unsup": trained}, data, SMALL)
    ev = m["evaluation"]
    assert ev["mode"] == "IN-SAMPLE"
    assert any(w.startswith("unsup: IN-SAMPLE") for w in ev["warnings"])
    assert "**Mode: IN-SAMPLE.**" in markdown_report(m)
    assert m["subjects"]["unsup"]["held_out"] is False
    # Even then, the downstream classifiers are fitted and scored on different boreholes.
    assert 0 < ev["rows_test"] < data.n_rows


def test_no_labels_skips_label_metrics(models, small_frame):
    m = evaluate(models, small_frame.drop(columns=[LABEL_COL]), SMALL)
    assert "labels" in m["evaluation"]["skipped"]
    s = m["subjects"]["semisup"]
    assert "svm" not in s and "head" not in s and "reconstruction_r2" in s
    assert any("no lithology labels" in w for w in m["evaluation"]["warnings"])


def test_class_missing_on_one_side(models, data):
    m = evaluate(models, data, SMALL)
    cov = m["evaluation"]["coverage"]
    # The small table has all 139 classes, many with a handful of rows: some of them
    # fall wholly on one side of the split; that is reported, not a crash.
    assert cov["classes_in_table"] == 139
    assert cov["classes_without_training_rows"] or cov["classes_without_held_out_rows"]
    assert any(
        "no rows in the held-out" in w or "only in held-out" in w
        for w in m["evaluation"]["warnings"]
    )


def test_head_roc_for_classes_without_training_rows(models, data):
    m = evaluate(models, data, SMALL)
    for s in m["subjects"].values():
        for v in s["svm"]["roc_auc"].values():
            assert v is None or (0 <= v <= 1 and not math.isnan(v))


def test_bad_input(models, small_frame):
    with pytest.raises(LilyVAEError, match="missing input column"):
        evaluate(models, small_frame.drop(columns=["G"]), SMALL)
    lacks = r"--zero-shot-classes names 1 lithologies the table lacks \('no such rock'\)"
    with pytest.raises(LilyVAEError, match=lacks):
        evaluate(models, small_frame, EvalConfig(zero_shot_classes=("no such rock", "clay")))
    with pytest.raises(LilyVAEError):
        EvalConfig(svm_train_rows=0)


def test_synthetic_flag_and_cli(tmp_path, models, capsys):
    table = write_synthetic_table(tmp_path / "syn.csv", rows=2000, seed=1)
    out = tmp_path / "eval"
    rc = main(
        [
            "evaluate",
            "--model",
            f"unsup={models[0].path}",
            "--model",
            f"semisup={models[1].path}",
            "--data",
            str(table),
            "--output-dir",
            str(out),
            "--svm-train-rows",
            "400",
            "--svm-test-rows",
            "200",
            "--gmm-components",
            "3",
            "--gmm-rows",
            "300",
            "--quiet",
        ]
    )
    printed = capsys.readouterr().out
    assert rc == 0 and "SYNTHETIC" in printed
    m = read_metrics(out / "metrics.json")
    assert m["synthetic"] is True and "SYNTHETIC" in (out / "metrics.md").read_text()
    assert m["evaluation"]["svm_train_rows"] <= 400
    assert m["models"]["unsup"]["checkpoint"].endswith("unsup.pt")


def test_models_with_different_splits(data, models):
    other = train(
        data,
        model="unsupervised",
        recipe="hybrid",
        epochs=1,
        split=split_boreholes(data, 0.25, seed=99),
    )
    m = evaluate([models[0], NamedModel("other", None, other)], data, SMALL)
    assert any("different held-out boreholes" in w for w in m["evaluation"]["warnings"])
    assert np.isfinite(m["subjects"]["other"]["svm"]["accuracy"])


def test_baseline_can_be_skipped_without_changing_the_models_scores(metrics, models, data):
    """Ensembles score the scaled-input baseline once per run, not once per pack."""
    without = evaluate(models, data, SMALL, baseline=False)
    assert "features" in metrics["subjects"] and "features" not in without["subjects"]

    def timeless(obj):
        if isinstance(obj, dict):
            return {k: timeless(v) for k, v in obj.items() if k != "seconds"}
        return obj

    for name in ("unsup", "semisup"):
        assert timeless(without["subjects"][name]) == timeless(metrics["subjects"][name])


def test_scores_without_detail_keep_every_scalar_a_member_summary_reads(metrics, models, data):
    """The demo's other seeds and an ensemble's members are scored without curves, AUCs
    and field scores: every scalar their summaries keep is the detailed evaluation's."""
    import dataclasses

    from lilyvae.runs.ensemble.scoring import flatten_metrics

    lean = evaluate(models, data, dataclasses.replace(SMALL, detailed=False), baseline=False)
    for name in ("unsup", "semisup"):
        full, kept = metrics["subjects"][name], lean["subjects"][name]
        assert flatten_metrics(kept) == flatten_metrics(full)
        assert len(flatten_metrics(kept)) >= 10
        assert "mean_roc_auc" in full["svm"] and "mean_roc_auc" not in kept["svm"]
        assert "probabilities" not in kept and "boundary_f1" not in json.dumps(kept)
        groups = ("group_balanced_accuracy", "balanced_accuracy")
        assert [kept["linear"][k] for k in groups] == [full["linear"][k] for k in groups]


def test_group_scores_by_hand():
    """Six rows of four lithologies in two groups (clay and silty clay: Clay/Mud;
    nannofossil ooze and chalk: Carbonate), counted by hand."""
    names = ("chalk", "clay", "nannofossil ooze", "silty clay")
    chalk, clay, ooze, silty = range(4)
    y_true = np.array([clay, clay, silty, ooze, ooze, chalk])
    y_pred = np.array([clay, silty, clay, ooze, clay, -1])  # -1: a class the data lack
    got = group_scores(y_true, y_pred, names)
    # Groups right: clay->silty clay and silty clay->clay stay Clay/Mud; ooze->clay and
    # chalk->(unknown) do not: 4 of 6 rows. Recall: Clay/Mud 3/3, Carbonate 1/3.
    assert got["group_accuracy"] == pytest.approx(4 / 6)
    assert got["group_balanced_accuracy"] == pytest.approx((1 + 1 / 3) / 2)
    assert got["group_confusion"]["groups"] == ["Carbonate", "Clay/Mud"]
    assert got["group_confusion"]["counts"] == [[1, 1], [0, 3]]  # the -1 is in no column
    # At the class level the same predictions are right once in six.
    scores = classification_scores(y_true, y_pred, None, None, [clay, ooze], names)
    assert scores["accuracy"] == pytest.approx(2 / 6)
    assert scores["group_accuracy"] == pytest.approx(4 / 6)
    assert scores["top_class_recall"] == {"clay": 0.5, "nannofossil ooze": 0.5}
    assert class_recall(y_true, y_pred, [silty, 3], names)["silty clay"] == 0.0


def test_groups_of_names_not_in_the_list():
    assert len(lithology_groups()) == 14 and lithology_groups()[:2] == ("Carbonate", "Clay/Mud")
    assert group_of("nannofossil ooze") == "Carbonate" and group_of("moon rock") == UNLISTED
    of, groups = groups_of(("clay", "moon rock"))
    assert groups[-1] == UNLISTED and groups[of[1]] == UNLISTED
    got = group_scores(np.array([0, 1]), np.array([1, 1]), ("clay", "moon rock"))
    assert got["group_confusion"]["groups"] == ["Clay/Mud", UNLISTED]
    assert got["group_balanced_accuracy"] == pytest.approx(0.5)
