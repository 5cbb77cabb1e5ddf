"""Bad inputs and faults, each met as a user meets it: one line naming the file and the
problem, exit status 1, and nothing half-written (defects of the reference system, reproduced)."""

import errno
import hashlib
import json
import os
import pathlib
import re
import shutil
import subprocess

import pytest
import torch
from cli_helpers import run

from lilyvae.data.schema import LABEL_COL
from lilyvae.run_folder import read_figure_manifest

GRA = "Bulk density (GRA)"


def train_args(data, output) -> list:
    return ["train", "--model", "unsupervised", "--data", data, "--epochs", "1", "--quiet"] + [
        "--output",
        output,
    ]


def copy_run(run_dir, tmp_path):
    shutil.copytree(run_dir, tmp_path / "run")
    return tmp_path / "run"


def copy_model(model, tmp_path):
    for companion in model.parent.glob(model.stem + ".*"):
        shutil.copy(companion, tmp_path / companion.name)
    return tmp_path / model.name


@pytest.mark.parametrize("rows", ["one", "every"])
@pytest.mark.parametrize("value", [1e308, 1e200])
def test_values_too_large_to_scale_name_their_column(tmp_path, small_frame, capsys, rows, value):
    frame = small_frame.copy()
    frame.loc[frame.index[5:6] if rows == "one" else frame.index, GRA] = value
    table = tmp_path / "big.csv"
    frame.to_csv(table, index=False)
    code, out, err = run(train_args(table, tmp_path / "out" / "m.pt"), capsys)
    assert code == 1 and len(err) == 1
    assert f"{table}: column '{GRA}' holds values too large to scale" in err[0]
    assert "--lr" not in err[0] and "trained" not in out
    assert not (tmp_path / "out").exists()


def _lock(folder) -> None:
    """Make a folder unwritable the way a user meets it: an immutable folder under root
    (permission bits do not stop root), a read-only folder otherwise."""
    if os.geteuid() != 0:
        folder.chmod(0o555)
        return
    if shutil.which("chattr") is None:
        pytest.skip("no chattr to make a folder unwritable for root")
    done = subprocess.run(["chattr", "+i", str(folder)], capture_output=True)
    if done.returncode != 0:
        pytest.skip("chattr +i needs CAP_LINUX_IMMUTABLE")


def _unlock(folder) -> None:
    if os.geteuid() != 0:
        folder.chmod(0o755)
    else:
        subprocess.run(["chattr", "-i", str(folder)], capture_output=True)


def test_an_unwritable_output_is_refused_before_training(tmp_path, small_csv, capsys):
    locked = tmp_path / "locked"
    locked.mkdir()
    _lock(locked)
    try:
        code, out, err = run(train_args(small_csv, locked / "m.pt"), capsys)
    finally:
        _unlock(locked)
    assert code == 1 and len(err) == 1
    assert f"{locked / 'm.pt'}: cannot write in {locked}" in err[0]
    assert "trained" not in out and list(locked.iterdir()) == []


def test_a_disk_that_fills_leaves_no_checkpoint_without_its_card(
    tmp_path, small_csv, capsys, monkeypatch
):
    """The .pt, history and card are one unit: a failed write of the card keeps the
    earlier run's three files as they were."""
    out, card = tmp_path / "m.pt", tmp_path / "m.meta.json"
    assert run(train_args(small_csv, out), capsys)[0] == 0
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    write_bytes = pathlib.Path.write_bytes

    def full_disk(self, payload):
        if ".meta.json." in self.name:  # the card's temporary file
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(self))
        return write_bytes(self, payload)

    monkeypatch.setattr(pathlib.Path, "write_bytes", full_disk)
    code, _, err = run(train_args(small_csv, out) + ["--seed", "7"], capsys)
    assert code == 1 and len(err) == 1
    # the file whose write failed is named, not the hidden temporary file
    assert err[0].endswith(f"{card}: cannot write the file (No space left on device)")
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before


@pytest.mark.parametrize(
    "hidden, message",
    [
        ([65536, 65536], "the network would have 8,593,473,562 parameters"),
        ("64", "hidden_dims is '64', not a list"),
        ([64.7, 32], "hidden_dims[0] is 64.7, not a whole number"),
        ([float("inf"), 32], "hidden_dims[0] is inf, not a whole number"),
    ],
)
def test_an_absurd_card_is_refused_before_allocation(model, tmp_path, capsys, hidden, message):
    path = copy_model(model, tmp_path)
    card = json.loads(path.with_suffix(".meta.json").read_text())
    card["model"]["architecture"]["hidden_dims"] = hidden
    path.with_suffix(".meta.json").write_text(json.dumps(card))
    code, _, err = run(["inspect", path], capsys)
    assert code == 1 and len(err) == 1
    assert err[0].startswith(f"lilyvae inspect: error: {path.with_suffix('.meta.json')}: ")
    assert message in err[0]


@pytest.mark.parametrize("rows", [1, 2])
def test_evaluating_a_table_too_small_to_score(model, small_frame, tmp_path, capsys, rows):
    table = tmp_path / "tiny.csv"
    small_frame.head(rows).to_csv(table, index=False)
    args = ["evaluate", "--model", model, "--data", table, "--output-dir", tmp_path / "ev"]
    code, _, err = run(args, capsys)
    assert code == 1 and len(err) == 1
    assert f"{table}: too few rows to evaluate ({rows} usable: 0 to score" in err[0]
    assert not (tmp_path / "ev").exists()


def test_a_split_file_that_is_not_text(tmp_path, small_csv, capsys):
    split = tmp_path / "split.txt"
    split.write_bytes(b"\xff\xfe\x00\x81 not text")
    code, _, err = run(train_args(small_csv, tmp_path / "m.pt") + ["--split", split], capsys)
    assert code == 1 and len(err) == 1
    assert f"{split}: not a text file of borehole IDs (not UTF-8" in err[0]
    assert not (tmp_path / "m.pt").exists()


@pytest.mark.parametrize("models", [None, ["unsup"], "unsup", {}])
def test_metrics_without_a_mapping_of_models(run_dir, tmp_path, capsys, models):
    root = copy_run(run_dir, tmp_path)
    metrics = json.loads((root / "metrics.json").read_text())
    if models is None:
        del metrics["models"]
    else:
        metrics["models"] = models
    (root / "metrics.json").write_text(json.dumps(metrics))
    for command in ("report", "figures"):
        code, _, err = run([command, "--run-dir", root], capsys)
        assert code == 1 and len(err) == 1, (command, err)
        assert f"{root / 'metrics.json'}: damaged metrics file: 'models'" in err[0]
    assert not (root / "report.html").exists() and not (root / "figures").exists()


@pytest.mark.parametrize(
    "manifest, message",
    [
        ('{"figures": [{"file": "umap.png", "ti', "not a readable figure manifest"),
        ('{"figures": "umap.png"}', "'figures' is not a list"),
        ('{"figures": [{"file": "umap.png"}]}', "figure 1 lacks its file, title, caption"),
    ],
)
def test_a_corrupt_figure_manifest(run_dir, tmp_path, capsys, manifest, message):
    """With --no-figures the report refuses a damaged manifest in one line; without it
    the figures are drawn again, which repairs the manifest."""
    root = copy_run(run_dir, tmp_path)
    (root / "figures").mkdir()
    (root / "figures" / "umap.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    (root / "figures" / "figures.json").write_text(manifest)
    code, _, err = run(["report", "--run-dir", root, "--no-figures"], capsys)
    assert code == 1 and len(err) == 1
    assert err[0].startswith(f"lilyvae report: error: {root / 'figures' / 'figures.json'}: ")
    assert message in err[0] and "run lilyvae figures again" in err[0]
    assert not (root / "report.html").exists()
    code, _, err = run(["report", "--run-dir", root], capsys)
    assert code == 0, err
    assert read_figure_manifest(root / "figures")["figures"] and (root / "report.html").is_file()


def test_a_bootstrap_that_cannot_start_leaves_no_directory(tmp_path, small_frame, capsys):
    table = tmp_path / "unlabelled.csv"
    small_frame.assign(**{LABEL_COL: None}).head(400).to_csv(table, index=False)
    out = tmp_path / "boot"
    args = ["bootstrap", "--data", table, "--output-dir", out, "--n", "1", "--epochs", "1"]
    args += ["--workers", "1", "--no-eval", "--quiet"]
    code, _, err = run(args + ["--model", "semisupervised"], capsys)
    assert code == 1 and len(err) == 1 and "no labelled rows" in err[0]
    assert not out.exists()
    # The corrected command is not refused as "a different run".
    code, _, err = run(args + ["--model", "unsupervised"], capsys)
    assert code == 0, err
    assert (out / "run.json").is_file()


def test_a_card_with_scale_zero(model, small_csv, tmp_path, capsys):
    path = copy_model(model, tmp_path)
    card = json.loads(path.with_suffix(".meta.json").read_text())
    card["scaler"]["scale"][2] = 0.0
    path.with_suffix(".meta.json").write_text(json.dumps(card))
    args = ["embed", "--model", path, "--data", small_csv, "--output", tmp_path / "e.csv"]
    code, _, err = run(args, capsys)
    assert code == 1 and len(err) == 1
    assert "scaler parameters of column 'NGR total counts (cps)' are unusable" in err[0]
    assert str(path.with_suffix(".meta.json")) in err[0]
    assert not (tmp_path / "e.csv").exists()


def test_a_checkpoint_with_nan_weights(model, small_csv, tmp_path, capsys):
    path = copy_model(model, tmp_path)
    state = torch.load(path, weights_only=True)
    state["fc_mu.weight"][3, 1] = float("nan")
    torch.save(state, path)
    card = json.loads(path.with_suffix(".meta.json").read_text())
    card["checkpoint"]["sha256"] = hashlib.sha256(path.read_bytes()).hexdigest()
    path.with_suffix(".meta.json").write_text(json.dumps(card))
    args = ["embed", "--model", path, "--data", small_csv, "--output", tmp_path / "e.csv"]
    code, _, err = run(args, capsys)
    assert code == 1 and len(err) == 1
    assert f"{path}: fc_mu.weight holds NaN or infinite values" in err[0]
    assert not (tmp_path / "e.csv").exists()


def test_embed_does_not_overwrite_its_input(model, small_csv, tmp_path, capsys):
    table = tmp_path / "table.csv"
    shutil.copy(small_csv, table)
    code, _, err = run(["embed", "--model", model, "--data", table, "--output", table], capsys)
    assert code == 1 and len(err) == 1
    assert f"{table}: would overwrite the input --data {table}" in err[0]
    assert table.read_bytes() == small_csv.read_bytes()


def test_metrics_state_the_gmm_components_used(model, small_frame, tmp_path, capsys):
    table = tmp_path / "twelve.csv"
    small_frame.head(12).to_csv(table, index=False)
    out = tmp_path / "ev"
    code, _, _ = run(["evaluate", "--model", model, "--data", table, "--output-dir", out], capsys)
    assert code == 0
    metrics = json.loads((out / "metrics.json").read_text())
    used = metrics["evaluation"]["gmm_components"]
    assert used == metrics["evaluation"]["gmm_fit_rows"] < 20
    assert metrics["subjects"]["unsup"]["clustering"]["components"] == used
    text = (out / "metrics.md").read_text()
    assert f"GMM {used} components (20 asked; {used} rows to fit them on)" in text
    assert not re.search(r"GMM 20 components", text)
