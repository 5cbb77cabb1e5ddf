"""Bad checkpoints, cards, options and a full disk, met as a user meets them: one line
naming the file and the problem, exit status 1, and nothing half-written."""

import errno
import json
import os
import shutil
import warnings

import pandas as pd
import pytest
from cli_helpers import run

from lilyvae.data.schema import GRA
from lilyvae.errors import LilyVAEError
from lilyvae.files import read_json_file
from lilyvae.training.trainer import train


@pytest.fixture(scope="module")
def model(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("model") / "unsup.pt"
    train(data, model="unsupervised", epochs=1).save(path)
    return path


def copy_model(model, folder):
    for companion in model.parent.glob(model.stem + ".*"):
        shutil.copy(companion, folder / companion.name)
    return folder / model.name


def edit_card(path, **changes):
    card_file = path.with_name(path.stem + ".meta.json")
    card = json.loads(card_file.read_text())
    card.update(changes)
    card_file.write_text(json.dumps(card))


def test_a_checkpoint_that_is_a_directory_says_so(tmp_path, capsys, small_csv):
    (tmp_path / "m.pt").mkdir()
    code, _, err = run(
        ["embed", "--model", tmp_path / "m.pt", "--data", small_csv, "--npz", tmp_path / "e.npz"],
        capsys,
    )
    assert (
        code == 1
        and len(err) == 1
        and err[0].endswith("m.pt: is a directory, not a checkpoint file (.pt)")
    )


def test_a_missing_checkpoint_is_reported_before_its_card(tmp_path, capsys, small_csv):
    code, _, err = run(
        [
            "embed",
            "--model",
            tmp_path / "gone.pt",
            "--data",
            small_csv,
            "--npz",
            tmp_path / "e.npz",
        ],
        capsys,
    )
    assert code == 1 and len(err) == 1 and err[0].endswith("gone.pt: no such checkpoint file")


def test_a_card_of_a_newer_format_is_refused(tmp_path, capsys, model):
    path = copy_model(model, tmp_path)
    edit_card(path, format_version=99)
    code, _, err = run(["inspect", path], capsys)
    assert code == 1 and len(err) == 1
    assert "unsup.meta.json: model card format version 99 was written by a newer lilyvae" in err[0]


def test_a_run_manifest_of_a_newer_format_is_refused(tmp_path):
    from lilyvae.runs.ensemble.rundir import RUN_FORMAT, RUN_VERSION

    (tmp_path / "run.json").write_text(json.dumps({"format": RUN_FORMAT, "format_version": 99}))
    with pytest.raises(LilyVAEError, match="run.json: ensemble run manifest format version 99"):
        read_json_file(tmp_path / "run.json", "ensemble run manifest", RUN_FORMAT, RUN_VERSION)
    (tmp_path / "run.json").write_text(json.dumps({"format": RUN_FORMAT, "format_version": 1}))
    assert read_json_file(tmp_path / "run.json", "run", RUN_FORMAT, RUN_VERSION)["format_version"]


def test_inspect_refuses_a_card_whose_inputs_embed_refuses(tmp_path, capsys, model):
    path = copy_model(model, tmp_path)
    edit_card(path, input_columns=["R", "G", "B", "GRA", "MS", "NGR"])
    code, _, err = run(["inspect", path], capsys)
    assert code == 1 and len(err) == 1
    assert "unsup.meta.json: the model card lists input columns ['R', 'G'," in err[0]


def test_embed_refuses_values_too_large_to_scale(tmp_path, capsys, model, small_frame):
    frame = small_frame.head(200).copy()
    frame.loc[frame.index[[3, 8]], GRA] = 1e308
    frame.to_csv(tmp_path / "big.csv", index=False)
    out = tmp_path / "out.csv"
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no raw numpy overflow warning either
        code, _, err = run(
            ["embed", "--model", model, "--data", tmp_path / "big.csv", "--output", out], capsys
        )
    assert code == 1 and len(err) == 1 and not out.exists()
    assert "big.csv: 2 value(s) too large for model 'unsup' to scale" in err[0]
    assert f"(first: line 5, {GRA!r} = 1e+308)" in err[0]


def test_embed_refuses_a_column_named_twice(tmp_path, capsys, model, small_frame):
    text = small_frame.head(50).to_csv(index=False).splitlines()
    text = [text[0] + ",R"] + [line + ",1" for line in text[1:]]
    (tmp_path / "two.csv").write_text("\n".join(text) + "\n")
    code, _, err = run(
        ["embed", "--model", model, "--data", tmp_path / "two.csv", "--npz", tmp_path / "e.npz"],
        capsys,
    )
    assert code == 1 and err[0].endswith("two.csv: column 'R' appears twice in the header")


def test_a_checkpoint_name_whose_history_would_replace_a_sidecar_is_refused(
    tmp_path, capsys, small_csv
):
    sidecar = tmp_path / "t.synthetic.json"
    sidecar.write_text('{"synthetic": true}')
    out = tmp_path / "t.synthetic.pt"
    args = ["train", "--model", "unsupervised", "--data", small_csv, "--epochs", "1"]
    code, _, err = run([*args, "--output", out, "--quiet"], capsys)
    assert code == 1 and len(err) == 1 and "would take the name of" in err[0]
    assert "t.synthetic.pt: its history t.synthetic.json" in err[0]
    assert sidecar.read_text() == '{"synthetic": true}' and not out.exists()


def test_a_negative_seed_names_the_option(tmp_path, capsys):
    code, _, err = run(["synth", "--output", tmp_path / "t.csv", "--seed", "-1"], capsys)
    assert code == 1 and err == ["lilyvae synth: error: --seed must be >= 0, not -1"]
    assert list(tmp_path.iterdir()) == []


def full_disk(monkeypatch, target: str):
    """Fail the move of a file whose name ends in ``target`` with ENOSPC."""
    real_replace = os.replace

    def replace(src, dst, *args, **kwargs):
        if str(dst).endswith(target):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_replace(src, dst, *args, **kwargs)

    monkeypatch.setattr(os, "replace", replace)


def test_a_full_disk_names_the_file_for_synth(tmp_path, capsys, monkeypatch):
    full_disk(monkeypatch, "t.csv")
    code, _, err = run(["synth", "--output", tmp_path / "t.csv", "--rows", "1000"], capsys)
    assert code == 1 and len(err) == 1
    assert err[0].endswith("t.csv: cannot write the file (No space left on device)")
    # the table's move failed: nothing lands, its sidecar and boreholes file neither
    assert list(tmp_path.iterdir()) == []


def test_a_full_disk_names_the_file_for_embed(tmp_path, capsys, monkeypatch, model, small_csv):
    full_disk(monkeypatch, "emb.csv")
    out = tmp_path / "emb.csv"
    code, _, err = run(["embed", "--model", model, "--data", small_csv, "--output", out], capsys)
    assert code == 1 and len(err) == 1
    assert err[0].endswith("emb.csv: cannot write the file (No space left on device)")
    assert list(tmp_path.iterdir()) == []


def test_a_write_that_fails_midway_names_the_file(tmp_path):
    from lilyvae.files import write_atomic

    def writer(tmp):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(tmp))

    with pytest.raises(LilyVAEError) as caught:
        write_atomic(tmp_path / "report.html", writer)
    assert (
        str(caught.value)
        == f"{tmp_path / 'report.html'}: cannot write the file (No space left on device)"
    )
    assert list(tmp_path.iterdir()) == []


def test_the_synthetic_table_keeps_its_values(tmp_path, capsys):
    from lilyvae.synthetic.generator import generate_table

    code, _, _ = run(
        ["synth", "--output", tmp_path / "t.csv", "--rows", "3000", "--seed", "7"], capsys
    )
    assert code == 0
    text = (tmp_path / "t.csv").read_text().splitlines()
    assert text[1].split(",")[1].endswith("000")
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "t.csv"), generate_table(3000, seed=7))


def test_metrics_of_a_newer_format_are_refused(tmp_path, capsys):
    from lilyvae.run_folder import METRICS_FORMAT

    run_dir = tmp_path / "run"
    run_dir.mkdir()
    metrics = {"format": METRICS_FORMAT, "format_version": 99, "models": {"m": {}}}
    (run_dir / "metrics.json").write_text(json.dumps(metrics))
    code, _, err = run(["report", "--run-dir", run_dir], capsys)
    assert code == 1 and len(err) == 1
    assert "metrics.json: metrics file format version 99 was written by a newer lilyvae" in err[0]
    assert sorted(p.name for p in run_dir.iterdir()) == ["metrics.json"]  # nothing written
