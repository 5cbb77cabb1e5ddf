"""Embeddings: columns per model, names, file formats, the npz layout, bad input."""

import json

import numpy as np
import pandas as pd
import pytest

from lilyvae.cli import main
from lilyvae.data.schema import FEATURE_COLS, LABEL_COL
from lilyvae.errors import LilyVAEError
from lilyvae.model.checkpoint import card_path
from lilyvae.model.embeddings import (
    embed_frame,
    embed_table,
    embedded_names,
    embedding_matrix,
    load_models,
    npz_arrays,
    parse_model_arg,
)
from lilyvae.training.trainer import train


@pytest.fixture(scope="module")
def ckpts(tmp_path_factory, small_frame):
    """A tiny unsupervised and semi-supervised model, saved with their cards."""
    root = tmp_path_factory.mktemp("emb_models")
    out = {}
    for kind, name in (("unsupervised", "u"), ("semisupervised", "s")):
        trained = train(small_frame, model=kind, recipe="hybrid", epochs=1, batch_size=256)
        path = root / f"{name}.pt"
        trained.save(path)
        out[kind] = path
    return out


def test_parse_model_arg():
    assert parse_model_arg("models/unsup.pt") == (
        None,
        __import__("pathlib").Path("models/unsup.pt"),
    )
    name, path = parse_model_arg("semi=models/semisup.pt")
    assert name == "semi" and path.name == "semisup.pt"
    with pytest.raises(LilyVAEError):
        parse_model_arg("=x.pt")


def test_default_names_and_columns(ckpts, small_frame):
    models = load_models([ckpts["unsupervised"], ckpts["semisupervised"]])
    assert [m.name for m in models] == ["unsup", "semisup"]
    out = embed_frame(small_frame, models)
    assert list(out.columns[: len(small_frame.columns)]) == list(small_frame.columns)
    for name in ("unsup", "semisup"):
        cols = [f"{name}_emb_{i}" for i in range(10)]
        assert all(c in out.columns for c in cols)
    assert embedded_names(out) == ["unsup", "semisup"]
    expected = models[0].model.embed(small_frame)
    np.testing.assert_allclose(embedding_matrix(out, "unsup"), expected, rtol=1e-6, atol=1e-6)


def test_explicit_names_and_duplicates(ckpts):
    models = load_models([f"a={ckpts['unsupervised']}", f"b={ckpts['unsupervised']}"])
    assert [m.name for m in models] == ["a", "b"]
    with pytest.raises(LilyVAEError, match="two models are named 'unsup'"):
        load_models([ckpts["unsupervised"], ckpts["unsupervised"]])


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_embed_table_files(tmp_path, ckpts, small_csv, suffix):
    out = tmp_path / f"emb{suffix}"
    result = embed_table(
        small_csv, [ckpts["unsupervised"], ckpts["semisupervised"]], out, tmp_path / "e.npz"
    )
    assert result.rows == 3000 and result.rows_without_embedding == 0
    table = pd.read_csv(out) if suffix == ".csv" else pd.read_parquet(out)
    assert table.shape == (3000, 9 + 20)
    with np.load(tmp_path / "e.npz", allow_pickle=False) as npz:
        assert set(npz.files) == {"unsup", "semisup", "y", "class_names"}
        assert npz["unsup"].shape == (3000, 10) and npz["unsup"].dtype == np.float32
        names = list(npz["class_names"])
        assert names == sorted(names)
        labels = pd.read_csv(small_csv)[LABEL_COL].to_numpy()
        assert (np.asarray(names, dtype=object)[npz["y"]] == labels).all()
        np.testing.assert_allclose(
            npz["semisup"], table[[f"semisup_emb_{i}" for i in range(10)]].to_numpy(), rtol=1e-5
        )


def test_bad_rows_get_nan(ckpts, small_frame):
    df = small_frame.head(20).copy()
    df.loc[3, FEATURE_COLS[1]] = np.nan
    out = embed_frame(df, load_models([ckpts["unsupervised"]]))
    emb = embedding_matrix(out, "unsup")
    assert np.isnan(emb[3]).all() and np.isfinite(np.delete(emb, 3, axis=0)).all()


def test_npz_without_labels(small_frame):
    arrays = npz_arrays(small_frame.drop(columns=[LABEL_COL]), {"unsup": np.zeros((3000, 10))})
    assert (arrays["y"] == -1).all() and arrays["class_names"].size == 0


def test_missing_input_column(ckpts, small_frame):
    with pytest.raises(LilyVAEError, match="missing input column.*'R'.*needed by model"):
        embed_frame(small_frame.drop(columns=["R"]), load_models([ckpts["unsupervised"]]))


def test_missing_or_mismatched_card(tmp_path, ckpts):
    lone = tmp_path / "lone.pt"
    lone.write_bytes(ckpts["unsupervised"].read_bytes())
    with pytest.raises(LilyVAEError, match="model card"):
        load_models([lone])
    # A card belonging to another checkpoint.
    other = tmp_path / "other.pt"
    other.write_bytes(ckpts["semisupervised"].read_bytes())
    card_path(other).write_text(card_path(ckpts["semisupervised"]).read_text())
    card = json.loads(card_path(other).read_text())
    card["checkpoint"]["sha256"] = "0" * 64
    card_path(other).write_text(json.dumps(card))
    with pytest.raises(LilyVAEError, match="does not match its model card"):
        load_models([other])


def test_cli_embed(tmp_path, ckpts, small_csv, capsys):
    out = tmp_path / "e.parquet"
    rc = main(
        [
            "embed",
            "--model",
            f"x={ckpts['unsupervised']}",
            "--data",
            str(small_csv),
            "--output",
            str(out),
        ]
    )
    assert rc == 0 and out.is_file()
    assert "x_emb_9" in pd.read_parquet(out).columns
    rc = main(
        [
            "embed",
            "--model",
            str(ckpts["unsupervised"]),
            "--data",
            str(small_csv),
            "--output",
            str(tmp_path / "e.txt"),
        ]
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 1 and len(err) == 1 and "must end in" in err[0]
    rc = main(
        [
            "embed",
            "--model",
            str(ckpts["unsupervised"]),
            "--model",
            str(ckpts["unsupervised"]),
            "--data",
            str(small_csv),
            "--output",
            str(out),
        ]
    )
    assert rc == 1 and "two models are named" in capsys.readouterr().err
