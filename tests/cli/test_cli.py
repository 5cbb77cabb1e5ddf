"""The command line: the training run a user types, and every bad input."""

import argparse
import json
import subprocess
import sys

import pytest
import torch
from cli_helpers import run

from lilyvae.cli.main import build_parser
from lilyvae.cli.options import training_settings
from lilyvae.model.networks import VAE


def test_train_writes_checkpoint_history_and_card(tmp_path, small_csv, capsys):
    out = tmp_path / "models" / "unsup.pt"
    code, stdout, _ = run(
        [
            "train",
            "--model",
            "unsupervised",
            "--data",
            small_csv,
            "--output",
            out,
            "--epochs",
            "2",
            "--batch-size",
            "256",
            "--lr",
            "1e-3",
            "--beta",
            "1.0",
            "--seed",
            "42",
            "--quiet",
        ],
        capsys,
    )
    assert code == 0
    assert "0 dropped" in stdout
    assert sorted(p.name for p in out.parent.iterdir()) == [
        "unsup.json",
        "unsup.meta.json",
        "unsup.pt",
    ]
    card = json.loads((out.parent / "unsup.meta.json").read_text())
    assert card["training"]["epochs"] == 2 and card["training"]["recipe"]["beta"] == 1.0
    VAE().load_state_dict(torch.load(out, map_location="cpu", weights_only=True))


def test_every_hyper_parameter_reaches_the_card(tmp_path, small_csv, capsys):
    out = tmp_path / "semi.pt"
    code, _, _ = run(
        [
            "train",
            "--model",
            "semisupervised",
            "--recipe",
            "hybrid",
            "--data",
            small_csv,
            "--output",
            out,
            "--epochs",
            "1",
            "--beta",
            "0.3",
            "--alpha",
            "0.7",
            "--beta-start",
            "0.01",
            "--anneal-epochs",
            "5",
            "--mask-ratio",
            "0.2",
            "--mask-weight",
            "0.4",
            "--grad-clip",
            "2.0",
            "--plateau-patience",
            "3",
            "--plateau-factor",
            "0.25",
            "--latent-dim",
            "4",
            "--hidden-dims",
            "16,8",
            "--holdout-boreholes",
            "0.25",
            "--quiet",
        ],
        capsys,
    )
    assert code == 0
    card = json.loads(out.with_name("semi.meta.json").read_text())
    recipe = card["training"]["recipe"]
    assert (recipe["beta"], recipe["alpha"], recipe["beta_start"], recipe["anneal_epochs"]) == (
        0.3,
        0.7,
        0.01,
        5,
    )
    assert (recipe["mask_ratio"], recipe["mask_weight"], recipe["grad_clip"]) == (0.2, 0.4, 2.0)
    assert (recipe["plateau_patience"], recipe["plateau_factor"]) == (3, 0.25)
    assert card["model"]["architecture"]["latent_dim"] == 4
    assert card["model"]["architecture"]["hidden_dims"] == [16, 8]
    assert len(card["split"]["holdout_boreholes"]) == 74  # a quarter of 296


def bad_tables(tmp_path, small_frame):
    tables = {}
    tables["wrong extension"] = tmp_path / "table.txt"
    tables["wrong extension"].write_text("x")
    no_cols = small_frame.drop(columns=["R", "Bulk density (GRA)"])
    tables["missing columns"] = tmp_path / "nocols.csv"
    no_cols.to_csv(tables["missing columns"], index=False)
    unusable = small_frame.head(20).copy()
    unusable["G"] = float("nan")
    tables["no usable rows"] = tmp_path / "unusable.csv"
    unusable.to_csv(tables["no usable rows"], index=False)
    unlabelled = small_frame.head(500).copy()
    unlabelled["Principal"] = None
    tables["no labels"] = tmp_path / "unlabelled.parquet"
    unlabelled.to_parquet(tables["no labels"])
    return tables


BAD_TRAINING_RUNS = [
    ("missing file", ["--data", "{tmp}/absent.csv"], "absent.csv: no such file"),
    ("wrong extension", ["--data", "{wrong extension}"], "unknown table extension '.txt'"),
    (
        "missing columns",
        ["--data", "{missing columns}"],
        "missing input column(s) 'Bulk density (GRA)', 'R'",
    ),
    ("no usable rows", ["--data", "{no usable rows}"], "input column 'G' is empty in every row"),
    ("no labels", ["--data", "{no labels}", "--model", "semisupervised"], "no labelled rows"),
    ("unknown model", ["--model", "supervised"], "invalid choice: 'supervised'"),
    ("unknown recipe", ["--recipe", "fancy"], "invalid choice: 'fancy'"),
    ("zero epochs", ["--epochs", "0"], "must be a positive integer, not 0"),
    ("negative batch", ["--batch-size", "-5"], "must be a positive integer, not -5"),
    ("zero lr", ["--lr", "0"], "must be a positive number, not 0"),
    # A network whose card could not be loaded again is not trained.
    ("too wide", ["--hidden-dims", "100000"], "hidden_dims[0] is 100000; it must be in 1..65536"),
    ("too big", ["--hidden-dims", "8192,8192"], "would have 134,660,122 parameters"),
    (
        "bad mask ratio",
        ["--recipe", "hybrid", "--mask-ratio", "1.5"],
        "argument --mask-ratio: must be in [0, 1), not 1.5",
    ),
]


@pytest.mark.parametrize(
    "name,extra,message", BAD_TRAINING_RUNS, ids=[b[0] for b in BAD_TRAINING_RUNS]
)
def test_bad_training_input_is_one_line_and_writes_nothing(
    tmp_path, small_frame, small_csv, capsys, name, extra, message
):
    tables = bad_tables(tmp_path, small_frame) | {"tmp": tmp_path}
    args = ["train", "--model", "unsupervised", "--data", small_csv, "--epochs", "1", "--quiet"]
    args += [a.format(**tables) for a in extra]
    out = tmp_path / "out" / "model.pt"
    code, _, err = run(args + ["--output", out], capsys)
    assert code not in (0, None)
    assert len(err) == 1, err
    assert message in err[0]
    assert "Traceback" not in err[0]
    if "{" in extra[-1]:  # file problems name the file
        assert str(extra[-1].format(**tables)) in err[0]
    assert not (tmp_path / "out").exists()


def test_checkpoint_problems(tmp_path, capsys):
    semi_pt = tmp_path / "semi.pt"
    from lilyvae.model.networks import SemiSupervisedVAE

    torch.save(SemiSupervisedVAE(n_classes=3).state_dict(), semi_pt)
    code, _, err = run(["inspect", semi_pt, "--model", "unsupervised"], capsys)
    assert code == 1 and len(err) == 1 and "holds a semisupervised model" in err[0]
    assert str(semi_pt) in err[0]

    odd = tmp_path / "odd.pt"
    state = VAE().state_dict()
    state["fc_mu.weight"] = torch.zeros(12, 32)
    torch.save(state, odd)
    code, _, err = run(["inspect", odd], capsys)
    assert code == 1 and len(err) == 1
    # The latent size is read from fc_mu.weight (12), so fc_mu.bias (10) is the misfit.
    assert "shape of fc_mu.bias is (10,), the model expects (12,)" in err[0]

    wrapped = tmp_path / "wrapped.pt"
    torch.save({"model": VAE().state_dict(), "epoch": 1}, wrapped)
    code, _, err = run(["inspect", wrapped], capsys)
    assert code == 1 and len(err) == 1 and "not a plain state dict" in err[0]

    code, out, err = run(["inspect", tmp_path / "missing.pt"], capsys)
    assert code == 1 and "no such checkpoint file" in err[0]


def test_the_installed_command_prints_no_traceback(tmp_path):
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "lilyvae",
            "train",
            "--data",
            str(tmp_path / "nope.csv"),
            "--model",
            "unsupervised",
            "--output",
            str(tmp_path / "m.pt"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 1
    assert proc.stderr.strip().count("\n") == 0 and "nope.csv: no such file" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_compile_is_refused_in_one_line(tmp_path, small_csv, capsys):
    out = tmp_path / "out" / "m.pt"
    args = ["train", "--model", "unsupervised", "--data", small_csv, "--output", out]
    code, _, err = run([*args, "--compile"], capsys)
    assert code == 2 and len(err) == 1
    assert err[0].startswith("lilyvae train: error: --compile was removed: ")
    assert not (tmp_path / "out").exists()


def subcommands(parser):
    """The subcommand parsers of ``parser`` (argparse keeps them on a private action)."""
    (action,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return action.choices


#: Every command the ``lilyvae`` tool has, by stage of the data's path.
ALL_COMMANDS = (
    *("synth", "synth-lily", "build-dataset"),
    *("train", "adopt", "inspect"),
    *("calibrate", "predict"),
    *("embed", "evaluate", "figures", "report", "properties"),
    *("bootstrap", "sweep", "demo"),
)


def test_help_lists_every_command_and_describes_every_flag(capsys):
    code, out, _ = run(["--help"], capsys)
    assert code == 0
    commands = subcommands(build_parser())
    assert sorted(commands) == sorted(ALL_COMMANDS)
    for name in commands:
        assert f"\n    {name}" in out
    assert "Start with `lilyvae demo`" in out
    for name, parser in commands.items():
        for action in parser._actions:
            if action.help is argparse.SUPPRESS or action.dest == "help":
                continue
            assert action.help and action.help.strip(), (name, action.option_strings)


@pytest.mark.parametrize("command", ["train", "bootstrap", "sweep"])
def test_training_help_shows_defaults_and_required_flags(command, capsys):
    code, out, _ = run([command, "--help"], capsys)
    assert code == 0
    text = " ".join(out.split())  # argparse wraps lines at the terminal's width
    usage = text[: text.index(" options:")]
    assert "--model {unsupervised,semisupervised}" in usage
    assert "[--model" not in usage and "[--output" not in usage and "--output" in usage
    assert "--epochs EPOCHS passes over the training rows [default 100]" in text
    assert "--hidden-dims N,N" in text and "[default 64,32]" in text
    assert "[standard: 1.0; hybrid: 0.5]" in text  # --beta
    assert "[standard: off; hybrid: 1.0]" in text  # --grad-clip
    assert "--compile" not in text
    parser = subcommands(build_parser())[command]
    for action in parser._actions:
        if action.dest in training_settings():
            shown = action.help[action.help.rindex("[") :]
            assert shown.startswith(("[default ", "[standard: ")) and shown.endswith("]")


def test_building_the_command_line_does_not_import_pytorch():
    """synth, synth-lily and build-dataset never train: their start-up skips PyTorch."""
    import subprocess
    import sys

    code = "import sys; from lilyvae.cli.main import build_parser; build_parser(); "
    code += "print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
