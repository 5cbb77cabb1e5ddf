"""A closed output pipe never costs the work, and SIGTERM cleans up as Ctrl-C does.

These run the real command in a subprocess: a pipe that its reader closes, a signal
that the operating system delivers.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from lilyvae.files import sha256_file
from lilyvae.synthetic.generator import write_synthetic_table

SRC = str(Path(__file__).resolve().parents[2] / "src")


def _env() -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = SRC + os.pathsep + env.get("PYTHONPATH", "")
    return env


def _read_one_line_then_close(args, cwd, merge_stderr: bool):
    """Run ``lilyvae ARGS`` as ``lilyvae ARGS | head -1`` would: read one line of its
    output, close the pipe, wait. Returns (exit status, the line, stderr text)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "lilyvae", *map(str, args)],
        cwd=cwd,
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT if merge_stderr else subprocess.PIPE,
        text=True,
    )
    line = proc.stdout.readline()
    proc.stdout.close()
    err = "" if merge_stderr else proc.stderr.read()
    return proc.wait(timeout=600), line, err


@pytest.fixture(scope="module")
def table(tmp_path_factory):
    path = tmp_path_factory.mktemp("pipe") / "t.csv"
    write_synthetic_table(path, rows=1500, seed=3)
    return path


def test_train_piped_into_head_still_writes_its_checkpoint(table, tmp_path):
    out = tmp_path / "m.pt"
    args = ["train", "--data", table, "--model", "unsupervised", "--epochs", "3"]
    code, line, _ = _read_one_line_then_close(args + ["--output", out], tmp_path, True)
    assert code == 0
    assert line.startswith(f"{table}: ")
    assert out.is_file() and out.with_suffix(".json").is_file()

    code, line, err = _read_one_line_then_close(["inspect", out], tmp_path, False)
    assert code == 0 and line.startswith(f"{out}: unsupervised model")
    assert "Broken pipe" not in err and "Traceback" not in err


def test_bootstrap_piped_into_head_trains_every_member(table, tmp_path):
    out = tmp_path / "boot"
    args = ["bootstrap", "--data", table, "--model", "unsupervised", "--epochs", "1", "--n", "2"]
    args += ["--output-dir", out, "--no-eval", "--workers", "1"]
    code, _, err = _read_one_line_then_close(args, tmp_path, False)
    assert code == 0, err
    assert sorted(p.name for p in (out / "members").glob("*.pt")) == ["m0000.pt", "m0001.pt"]
    assert "Broken pipe" not in err


# Writes the table, then sends this process SIGTERM before the write is moved into place.
SIGTERM_DURING_WRITE = """
import os, signal, sys
import lilyvae.model.embeddings as embeddings
from lilyvae.cli import main

real_write = embeddings.write_table

def write_then_terminated(df, path, fmt=None):
    real_write(df, path, fmt)
    os.kill(os.getpid(), signal.SIGTERM)

embeddings.write_table = write_then_terminated
sys.exit(main(sys.argv[1:]))
"""


def test_sigterm_during_embed_leaves_no_temporary_file(table, tmp_path):
    train = [sys.executable, "-m", "lilyvae", "train", "--data", str(table), "--quiet"]
    train += ["--model", "unsupervised", "--epochs", "1", "--output", str(tmp_path / "m.pt")]
    subprocess.run(train, env=_env(), check=True, capture_output=True)
    out = tmp_path / "embedded"
    out.mkdir()
    args = ["embed", "--data", table, "--model", tmp_path / "m.pt", "--output", out / "e.csv"]
    done = subprocess.run(
        [sys.executable, "-c", SIGTERM_DURING_WRITE, *map(str, args)],
        env=_env(),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 143, done.stderr
    assert done.stderr.strip().splitlines() == ["lilyvae embed: terminated"]
    assert list(out.iterdir()) == []


def test_embed_of_a_synthetic_table_writes_its_marker_with_it(table, tmp_path, capsys):
    from cli_helpers import run

    model = tmp_path / "m.pt"
    code, _, err = run(
        ["train", "--data", table, "--model", "unsupervised", "--epochs", "1", "--quiet"]
        + ["--output", model],
        capsys,
    )
    assert code == 0, err
    args = ["embed", "--data", table, "--model", model]
    code, out, err = run(
        args + ["--output", tmp_path / "e.parquet", "--npz", tmp_path / "e.npz"], capsys
    )
    assert code == 0, err
    sidecar = tmp_path / "e.synthetic.json"
    assert f"wrote {sidecar} (SYNTHETIC" in out
    marker = json.loads(sidecar.read_text())
    assert marker["synthetic"] is True and marker["derived_from"] == str(table)
    assert marker["files"] == {
        "e.parquet": sha256_file(tmp_path / "e.parquet"),
        "e.npz": sha256_file(tmp_path / "e.npz"),
    }
    # The table read back is marked SYNTHETIC by the marker.
    from lilyvae.data.provenance import table_provenance

    assert table_provenance(tmp_path / "e.parquet").synthetic

    # A table of unknown origin gets no marker (rewritten by pandas, it loses the
    # generator's own mark too, not only its sidecar).
    plain = tmp_path / "plain.csv"
    pd.read_csv(table).to_csv(plain, index=False)
    code, out, err = run(
        ["embed", "--data", plain, "--model", model, "--output", tmp_path / "p.csv"], capsys
    )
    assert code == 0, err
    assert not (tmp_path / "p.synthetic.json").exists() and "SYNTHETIC" not in out


def test_embed_refuses_to_overwrite_the_tables_own_marker(table, tmp_path, capsys):
    from cli_helpers import run

    model = tmp_path / "m.pt"
    run(
        ["train", "--data", table, "--model", "unsupervised", "--epochs", "1", "--quiet"]
        + ["--output", model],
        capsys,
    )
    before = sha256_file(table.with_name("t.synthetic.json"))
    clash = table.with_suffix(".parquet")
    code, _, err = run(["embed", "--data", table, "--model", model, "--output", clash], capsys)
    assert code == 1 and len(err) == 1 and "would overwrite the input --data's SYNTHETIC" in err[0]
    assert not clash.exists()
    assert sha256_file(table.with_name("t.synthetic.json")) == before
