"""Adopting the reference's published checkpoints: scaler, class names, a model card."""

import json

import numpy as np
import pandas as pd
import pytest
import torch
from cli_helpers import run
from reference_helpers import REFERENCE, hand_embedding

from lilyvae import FEATURE_COLS, load_model
from lilyvae.data.schema import LABEL_COL
from lilyvae.errors import LilyVAEError
from lilyvae.model.adopt import adopt
from lilyvae.report.figures import figures_from_run


def hand_scaled(frame: pd.DataFrame) -> np.ndarray:
    """The documented scaling by hand: GRA as is, signed log1p of MS and NGR, log1p of
    R, G, B; then each column standardised with its mean and population standard
    deviation over every row of the table."""
    x = frame[list(FEATURE_COLS)].to_numpy(np.float64)
    logged = np.column_stack(
        [
            x[:, 0],
            np.sign(x[:, 1]) * np.log1p(np.abs(x[:, 1])),
            np.sign(x[:, 2]) * np.log1p(np.abs(x[:, 2])),
            np.log1p(x[:, 3:6]),
        ]
    )
    return (logged - logged.mean(axis=0)) / logged.std(axis=0)


@pytest.fixture(scope="module")
def adopted(tmp_path_factory, small_csv):
    """Both published models adopted on the small synthetic table, saved and loaded."""
    out = tmp_path_factory.mktemp("adopted")
    paths = {}
    for name, kind in (("unsup", "unsupervised"), ("semisup", "semisupervised")):
        paths[name] = out / f"{name}.pt"
        adopt(REFERENCE / f"{name}.pt", kind, small_csv, recipe="standard").save(paths[name])
    return paths


@pytest.mark.parametrize("name", ["unsup", "semisup"])
def test_embeddings_are_the_documented_layers_on_the_scaled_table(adopted, small_frame, name):
    model = load_model(adopted[name])
    state = torch.load(REFERENCE / f"{name}.pt", map_location="cpu", weights_only=True)
    expected = hand_embedding(state, hand_scaled(small_frame))
    np.testing.assert_allclose(model.embed(small_frame), expected, rtol=1e-4, atol=1e-4)
    # The weights are copied unchanged.
    for key, value in model.module.state_dict().items():
        assert torch.equal(value, state[key]), key


def test_the_card_says_where_each_part_came_from(adopted, small_frame, small_csv):
    semi = load_model(adopted["semisup"])
    card = semi.card
    assert card.extra["adopted"]["provenance"] == (
        f"adopted: weights from {REFERENCE / 'semisup.pt'}, scaler fitted by lilyvae on {small_csv}"
    )
    assert card.kind == "semisupervised" and card.recipe == "standard"
    assert card.architecture.to_dict() == {
        "input_dim": 6,
        "latent_dim": 10,
        "hidden_dims": [64, 32],
        "n_classes": 139,
    }
    assert card.n_parameters == 16165 and card.split is None and card.final == {}
    # Output i of the head is the i-th lithology name in sorted order (LabelEncoder).
    assert card.class_names == tuple(sorted(small_frame[LABEL_COL].unique()))
    assert card.scaler["n_samples_seen"] == len(small_frame)
    assert card.data["path"] == str(small_csv) and card.data["rows_trained"] is None
    assert load_model(adopted["unsup"]).card.class_names == ()
    assert semi.predict(small_frame.head(3)).shape == (3,)


def test_adopted_models_go_through_embed_evaluate_figures_and_report(
    adopted, small_csv, tmp_path, capsys
):
    models = ["--model", adopted["unsup"], "--model", adopted["semisup"]]
    code, _, err = run(
        ["embed", *models, "--data", small_csv, "--output", tmp_path / "e.parquet"], capsys
    )
    assert code == 0 and not err
    assert "semisup_emb_9" in pd.read_parquet(tmp_path / "e.parquet").columns
    run_dir = tmp_path / "run"
    scoring = ["--svm-train-rows", 300, "--svm-test-rows", 200, "--gmm-components", 3]
    code, out, _ = run(
        ["evaluate", *models, "--data", small_csv, "--output-dir", run_dir, *scoring, "--quiet"],
        capsys,
    )
    assert code == 0 and "semisup" in out
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["models"]["semisup"]["recipe"] == "standard"
    assert metrics["subjects"]["unsup"]["latent"]["latent_dim"] == 10
    # The figures through the API: the command's row counts are too many for a test.
    drawn = figures_from_run(run_dir, umap_rows=200, scatter_rows=300, prior_rows=500)
    assert {"umap.png", "reconstruction_standard.png"} <= {f.file for f in drawn.figures}
    code, _, err = run(["report", "--run-dir", run_dir], capsys)
    assert code == 0 and not err
    assert "adopted: weights from" in (run_dir / "report.html").read_text()


def test_adopt_on_the_command_line(tmp_path, small_csv, capsys):
    out = tmp_path / "models" / "semisup.pt"
    args = ["adopt", "--checkpoint", REFERENCE / "semisup.pt", "--data", small_csv]
    code, printed, err = run([*args, "--model", "semisupervised", "--output", out], capsys)
    assert code == 0 and not err
    assert printed.startswith("adopted: weights from ") and "139 lithology names" in printed
    assert sorted(p.name for p in out.parent.iterdir()) == ["semisup.meta.json", "semisup.pt"]
    code, printed, _ = run(["inspect", out], capsys)
    assert code == 0 and "provenance  adopted: weights from" in printed
    # The wrong kind, and an output that would replace the weights, are refused.
    code, _, err = run([*args, "--model", "unsupervised", "--output", tmp_path / "u.pt"], capsys)
    assert code == 1 and len(err) == 1 and "holds a semisupervised model" in err[0]
    assert not (tmp_path / "u.pt").exists()
    copy = tmp_path / "copy.pt"
    copy.write_bytes((REFERENCE / "semisup.pt").read_bytes())
    code, _, err = run(
        ["adopt", "--checkpoint", copy, "--data", small_csv, "--model", "semisupervised"]
        + ["--output", copy],
        capsys,
    )
    assert code == 1 and len(err) == 1 and "would overwrite the input --checkpoint" in err[0]
    assert copy.read_bytes() == (REFERENCE / "semisup.pt").read_bytes()


def test_a_table_with_other_lithologies_is_refused(tmp_path, small_frame):
    fewer = small_frame[small_frame[LABEL_COL].isin(sorted(small_frame[LABEL_COL].unique())[:5])]
    with pytest.raises(LilyVAEError, match="5 lithologies, but the classifier .* 139 outputs"):
        adopt(REFERENCE / "semisup.pt", "semisupervised", fewer)
    # The unsupervised model needs no labels.
    assert adopt(REFERENCE / "unsup.pt", "unsupervised", fewer).card.class_names == ()


def test_weights_that_are_not_a_finite_vae_are_refused(tmp_path, small_frame):
    torch.save({"layer.weight": torch.zeros(2, 2)}, tmp_path / "other.pt")
    with pytest.raises(LilyVAEError, match=r"other.pt: not a lilyvae/reference VAE state dict"):
        adopt(tmp_path / "other.pt", "semisupervised", small_frame)
    state = torch.load(REFERENCE / "unsup.pt", map_location="cpu", weights_only=True)
    state["encoder.3.weight"][0, 0] = float("nan")
    torch.save(state, tmp_path / "nan.pt")
    with pytest.raises(LilyVAEError, match=r"nan.pt: encoder.3.weight holds NaN"):
        adopt(tmp_path / "nan.pt", "unsupervised", small_frame)
