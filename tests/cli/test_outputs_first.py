"""Outputs are checked before the work, errors name what the user can act on."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest
from cli_helpers import run

from lilyvae.cli.main import output_name


@pytest.fixture
def locked(tmp_path):
    """A folder no file can be created in, even by root (immutable), else read-only."""
    folder = tmp_path / "locked"
    folder.mkdir()
    if os.geteuid() != 0:
        folder.chmod(0o555)
    elif shutil.which("chattr") is None:
        pytest.skip("no chattr to make a folder unwritable for root")
    elif subprocess.run(["chattr", "+i", str(folder)], capture_output=True).returncode:
        pytest.skip("chattr +i needs CAP_LINUX_IMMUTABLE")
    yield folder
    if os.geteuid() != 0:
        folder.chmod(0o755)
    else:
        subprocess.run(["chattr", "-i", str(folder)], capture_output=True)


def test_report_on_an_empty_folder_says_what_a_report_needs(tmp_path, capsys):
    code, _, err = run(["report", "--run-dir", tmp_path], capsys)
    assert code == 1 and len(err) == 1
    assert "metrics.json" in err[0] and "lilyvae evaluate" in err[0] and "run.json" in err[0]
    assert "--data" not in err[0]
    assert list(tmp_path.iterdir()) == []


def test_report_into_an_unwritable_folder_is_refused_first_naming_the_report(
    run_dir, locked, capsys
):
    figures = run_dir / "figures"
    code, out, err = run(["report", "--run-dir", run_dir, "--output", locked / "r.html"], capsys)
    assert code == 1 and len(err) == 1
    assert err[0].startswith(f"lilyvae report: error: {locked / 'r.html'}: cannot write in")
    assert ".tmp" not in err[0]
    assert not figures.exists() and "drew" not in out  # refused before drawing figures


def test_report_may_not_overwrite_the_metrics(run_dir, capsys):
    code, _, err = run(["report", "--run-dir", run_dir, "--output", run_dir / "x.json"], capsys)
    assert code == 1 and "must end in .html" in err[0]


def test_evaluate_into_an_unwritable_folder_is_refused_before_scoring(
    model, small_csv, locked, capsys
):
    args = ["evaluate", "--model", model, "--data", small_csv, "--output-dir", locked]
    code, out, err = run(args, capsys)
    assert code == 1 and len(err) == 1
    assert f"{locked / 'metrics.json'}: cannot write in {locked}" in err[0]
    assert out == ""


def test_figures_with_a_bad_argument_leave_no_folder(run_dir, tmp_path, capsys):
    out = tmp_path / "new" / "figures"
    args = ["figures", "--run-dir", run_dir, "--output-dir", out, "--boreholes", "NOPE"]
    code, _, err = run(args + ["--quiet"], capsys)
    assert code == 1 and len(err) == 1 and "NOPE" in err[0]
    assert not (tmp_path / "new").exists()


def test_figures_into_a_file_are_refused(run_dir, tmp_path, capsys):
    (tmp_path / "file").write_text("x")
    args = ["figures", "--run-dir", run_dir, "--output-dir", tmp_path / "file", "--quiet"]
    code, _, err = run(args, capsys)
    assert code == 1 and "is not a directory" in err[0]


def test_properties_into_an_unwritable_folder_is_refused_before_the_work(
    model, small_csv, tmp_path, locked, capsys
):
    from lilyvae.synthetic.properties import write_property_tables

    lily = tmp_path / "lily"
    write_property_tables(lily, scale=0.002, seed=0)
    args = ["properties", "--lily-dir", lily, "--data", small_csv, "--model", model]
    code, out, err = run(args + ["--output-dir", locked, "--quiet"], capsys)
    assert code == 1 and len(err) == 1
    assert f"{locked / 'properties.csv'}: cannot write in {locked}" in err[0]
    # Nor may its output replace the training table.
    table = tmp_path / "out" / "properties.csv"
    table.parent.mkdir()
    shutil.copy(small_csv, table)
    args = ["properties", "--lily-dir", lily, "--data", table, "--model", model]
    code, _, err = run(args + ["--output-dir", table.parent, "--quiet"], capsys)
    assert code == 1 and len(err) == 1 and "would overwrite the input --data" in err[0]
    assert table.read_bytes() == small_csv.read_bytes()


def test_properties_without_tables_names_synth_lily_and_the_real_files(
    model, small_csv, tmp_path, capsys
):
    args = ["properties", "--lily-dir", tmp_path, "--data", small_csv, "--model", model]
    code, _, err = run(args + ["--output-dir", tmp_path / "out"], capsys)
    assert code == 1 and len(err) == 1
    assert "lilyvae synth-lily" in err[0] and "SYNTHETIC" in err[0]
    assert "MAD_DataLITH.csv" in err[0] and "Zenodo" in err[0]
    assert not (tmp_path / "out").exists()


def test_an_error_names_the_file_asked_for_not_its_temporary_name(tmp_path):
    assert output_name(tmp_path / ".report.html.k2j_9x1a.tmp") == str(tmp_path / "report.html")
    assert output_name(tmp_path / "report.html") == str(tmp_path / "report.html")
    assert output_name(".m.pt.abc.tmp") == "m.pt"
