"""What the command line says while it works and about what it made: progress as lines
in a log (bars only on a terminal), nothing with --quiet; ``inspect`` answering what a
user asks first; ``synth`` writing the borehole positions beside its table."""

import io
import json

import pandas as pd
from cli_helpers import run

from lilyvae.data.schema import BOREHOLE_TABLE_COLUMNS
from lilyvae.progress import Progress


def test_training_progress_is_a_line_per_epoch_in_a_log(tmp_path, small_csv, capsys):
    args = ["train", "--model", "unsupervised", "--data", small_csv, "--epochs", "2"]
    code, _, err = run(args + ["--output", tmp_path / "a.pt"], capsys)
    assert code == 0
    lines = [line for line in err if "epoch" in line]
    assert [line.split(", loss")[0] for line in lines] == [
        "training unsupervised/standard: epoch 1/2",
        "training unsupervised/standard: epoch 2/2",
    ]
    assert not any("\r" in line for line in err)

    code, _, err = run(args + ["--output", tmp_path / "b.pt", "--quiet"], capsys)
    assert code == 0 and not any("epoch" in line for line in err)


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_draws_a_bar_only_on_a_terminal():
    log, terminal = io.StringIO(), _Terminal()
    for stream in (log, terminal):
        bar = Progress(3, "members", "member", stream=stream)
        for _ in range(3):
            bar.update(1, "0 failed")
        bar.close()
    assert log.getvalue().splitlines() == [f"members: member {k}/3, 0 failed" for k in (1, 2, 3)]
    assert "\r" in terminal.getvalue() and "3/3" in terminal.getvalue()
    quiet = io.StringIO()
    bar = Progress(3, "members", "member", quiet=True, stream=quiet)
    bar.update(3)
    bar.close()
    assert quiet.getvalue() == "" and bar.done == 3


def test_synth_writes_positions_and_inspect_says_what_a_user_asks(tmp_path, capsys):
    table = tmp_path / "syn.csv"
    code, out, _ = run(["synth", "--output", table, "--rows", "600", "--seed", "2"], capsys)
    assert code == 0 and "syn.boreholes.csv" in out
    positions = pd.read_csv(tmp_path / "syn.boreholes.csv")
    assert tuple(positions.columns) == BOREHOLE_TABLE_COLUMNS
    assert positions["rows"].sum() == 600

    model = tmp_path / "m.pt"
    train = ["train", "--model", "semisupervised", "--data", table, "--output", model]
    train += ["--epochs", "1", "--seed", "7", "--holdout-boreholes", "0.2", "--quiet"]
    assert run(train, capsys)[0] == 0
    code, out, _ = run(["inspect", model], capsys)
    assert code == 0
    said = {line.split()[0]: line for line in out.splitlines()[1:]}
    assert "hybrid" not in said["recipe"] and "standard" in said["recipe"]
    assert "yes: SYNTHETIC" in said["synthetic"]
    assert "trained on (of 600 usable rows" in said["rows"]
    assert "boreholes (fraction 0.2; split seed 0;" in said["held"]
    assert said["epochs"].split()[1] == "1" and said["seed"].split()[1] == "7"

    # A table without a synthetic sidecar, and a model trained on every borehole.
    plain = tmp_path / "plain.csv"
    pd.read_csv(table).to_csv(plain, index=False)
    train = ["train", "--model", "unsupervised", "--data", plain, "--output", model]
    assert run(train + ["--epochs", "1", "--quiet"], capsys)[0] == 0
    code, out, _ = run(["inspect", model], capsys)
    assert "synthetic   no (the table has no synthetic sidecar)" in out
    assert "held out    none (trained on every borehole" in out
    # The card is what says it (the table may be gone); a card written before lilyvae
    # recorded provenance cannot tell.
    plain.unlink()
    code, out, _ = run(["inspect", model], capsys)
    assert code == 0 and "synthetic   no (the table has no synthetic sidecar)" in out
    meta = model.with_name(model.stem + ".meta.json")
    old = json.loads(meta.read_text())
    del old["data"]["synthetic"]
    meta.write_text(json.dumps(old))
    code, out, _ = run(["inspect", model], capsys)
    assert code == 0 and "synthetic   unknown" in out
