"""Run folders that a failed start leaves, and settings that a run would ignore."""

from __future__ import annotations

import hashlib
import json

import pytest
from cli_helpers import run

from lilyvae.data.schema import BOREHOLE_COL
from lilyvae.synthetic.generator import generate_table


@pytest.fixture(scope="module")
def tables(tmp_path_factory):
    """A small table, and the same table with one empty Borehole_ID cell."""
    folder = tmp_path_factory.mktemp("tables")
    frame = generate_table(rows=800, seed=5)
    good, bad = folder / "good.csv", folder / "bad.csv"
    frame.to_csv(good, index=False)
    frame.assign(**{BOREHOLE_COL: frame[BOREHOLE_COL].where(frame.index != 7)}).to_csv(
        bad, index=False
    )
    return good, bad


def bootstrap_args(table, out, resume: bool = False) -> list:
    """A one-member run; resumed, without the settings that its run.json holds."""
    args = ["bootstrap", "--model", "unsupervised", "--data", table, "--output-dir", out]
    args += ["--n", "1", "--workers", "1", "--no-eval", "--quiet"]
    return args + (["--resume"] if resume else ["--epochs", "1"])


def test_rows_without_a_borehole_are_refused_before_the_run_folder(tables, tmp_path, capsys):
    _, bad = tables
    out = tmp_path / "boot"
    code, _, err = run(bootstrap_args(bad, out) + ["--resample", "boreholes"], capsys)
    assert code == 1 and len(err) == 1
    assert f"{bad}: 1 row(s) with an empty Borehole_ID (first: line 9)" in err[0]
    assert not out.exists()


def _leave_unstarted_run(tables, out, capsys) -> None:
    """A run folder as a run that failed before any member finished leaves it."""
    good, _ = tables
    code, _, err = run(bootstrap_args(good, out) + ["--seed", "9"], capsys)
    assert code == 0, err
    for member in (out / "members").iterdir():
        member.unlink()


def test_a_run_folder_without_a_finished_member_is_replaced(tables, tmp_path, capsys):
    good, _ = tables
    out = tmp_path / "boot"
    _leave_unstarted_run(tables, out, capsys)
    code, stdout, err = run(bootstrap_args(good, out), capsys)
    assert code == 0, err
    assert f"{out}: replaced the run there, no member of which had finished" in stdout
    assert json.loads((out / "run.json").read_text())["identity"]["config"]["seed"] != 9
    assert (out / "members" / "m0000.pt").is_file()
    # A folder with a finished member is never replaced.
    code, _, err = run(bootstrap_args(good, out) + ["--seed", "9"], capsys)
    assert code == 1 and "holds a different bootstrap run" in err[0]


def test_a_run_folder_without_a_finished_member_resumes(tables, tmp_path, capsys):
    good, _ = tables
    out = tmp_path / "boot"
    _leave_unstarted_run(tables, out, capsys)
    code, stdout, err = run(bootstrap_args(good, out, resume=True), capsys)
    assert code == 0, err
    assert "continued the run with the settings stored in its run.json" in stdout
    assert (out / "members" / "m0000.pt").is_file()


def test_resuming_an_unstarted_run_on_other_data_says_how_to_replace_it(tables, tmp_path, capsys):
    good, _ = tables
    out = tmp_path / "boot"
    _leave_unstarted_run(tables, out, capsys)
    other = tmp_path / "other.csv"
    lines = good.read_text().splitlines(keepends=True)
    other.write_text("".join(lines[:-1]))  # one row fewer
    code, _, err = run(bootstrap_args(other, out, resume=True), capsys)
    assert code == 1 and len(err) == 1
    assert "no member of the run there finished" in err[0] and "without --resume" in err[0]


@pytest.mark.parametrize(
    "extra, flags",
    [
        (["--epochs", "5"], "--epochs"),
        (["--recipe", "hybrid", "--beta", "0.5"], "--recipe, --beta"),
        (["--resample", "boreholes"], "--resample"),
        (["--holdout-boreholes", "0.2"], "--holdout-boreholes"),
    ],
)
def test_a_setting_beside_resume_is_refused(tables, tmp_path, capsys, extra, flags):
    good, _ = tables
    out = tmp_path / "boot"
    args = ["bootstrap", "--model", "unsupervised", "--data", good, "--output-dir", out]
    code, _, err = run(args + ["--n", "1", "--resume", *extra], capsys)
    assert code == 1 and len(err) == 1
    assert err[0].startswith(f"lilyvae bootstrap: error: {flags} beside --resume: ")
    assert "would be ignored" in err[0] and not out.exists()


def test_a_setting_beside_its_grid_axis_is_refused(tables, tmp_path, capsys):
    good, _ = tables
    out = tmp_path / "sweep"
    args = ["sweep", "--model", "unsupervised", "--data", good, "--output-dir", out]
    code, _, err = run(args + ["--grid", "beta=0.1,1", "--beta", "0.5"], capsys)
    assert code == 1 and len(err) == 1
    assert "--beta beside --grid beta=..." in err[0] and "ignored" in err[0]
    # Another setting beside the grid is the base of every cell, as before.
    assert not out.exists()


@pytest.mark.parametrize(
    "axis, message",
    [
        ("missing=drop,mask", "'missing' cannot vary within a sweep: its values train on"),
        ("device=cpu", "'device' cannot vary within a sweep"),
        (
            "deterministic=1",
            "'deterministic' is a setting of the whole run, not a grid axis; "
            "give it once as --deterministic",
        ),
        ("nonsense=1", "unknown hyper-parameter 'nonsense'; choose from epochs"),
    ],
)
def test_a_grid_axis_that_cannot_vary_says_why(tables, tmp_path, capsys, axis, message):
    good, _ = tables
    args = ["sweep", "--model", "unsupervised", "--data", good, "--output-dir", tmp_path / "s"]
    code, _, err = run(args + ["--grid", axis], capsys)
    assert code == 1 and len(err) == 1 and message in err[0]


def _as_older_code_wrote_it(out) -> None:
    """Rewrite a run folder as the code before the members' group comparison wrote it:
    no ``boosted_fit_rows`` among the scoring settings (so another run id), and member
    cards without the group comparison's scores."""
    manifest = json.loads((out / "run.json").read_text())
    del manifest["identity"]["evaluation"]["boosted_fit_rows"]
    canonical = json.dumps(manifest["identity"], sort_keys=True, separators=(",", ":"))
    manifest["run_id"] = hashlib.sha256(canonical.encode()).hexdigest()[:16]
    (out / "run.json").write_text(json.dumps(manifest))
    for card_file in (out / "members").glob("*.meta.json"):
        card = json.loads(card_file.read_text())
        card["ensemble"]["run"] = manifest["run_id"]
        card["ensemble"]["metrics"] = {
            k: v for k, v in card["ensemble"]["metrics"].items() if not k.startswith("groups_")
        }
        card_file.write_text(json.dumps(card))
    baseline = json.loads((out / "baseline.json").read_text())
    (out / "baseline.json").write_text(json.dumps(baseline | {"run_id": manifest["run_id"]}))


def test_a_run_folder_of_older_code_goes_on_with_the_same_command(tables, tmp_path, capsys):
    """A setting added since a run was written takes its default, so the same command on
    an old folder whose run was cut short keeps the finished members and trains the
    rest, without --resume; the run keeps its id."""
    good, _ = tables
    out = tmp_path / "boot"
    args = ["bootstrap", "--model", "unsupervised", "--data", good, "--output-dir", out]
    args += ["--n", "2", "--workers", "1", "--epochs", "1", "--holdout-boreholes", "0.3"]
    args += ["--eval-rows", "600", "--quiet"]
    code, _, err = run(args, capsys)
    assert code == 0, err
    _as_older_code_wrote_it(out)
    for unfinished in (out / "members").glob("m0001.*"):
        unfinished.unlink()
    old_id = json.loads((out / "run.json").read_text())["run_id"]
    kept = (out / "members" / "m0000.pt").stat().st_mtime_ns

    code, stdout, err = run(args, capsys)
    assert code == 0, err
    assert "2 of 2 members ok (1 trained now, 1 already done)" in stdout
    assert (out / "members" / "m0000.pt").stat().st_mtime_ns == kept
    assert json.loads((out / "run.json").read_text())["run_id"] == old_id
    card = json.loads((out / "members" / "m0001.meta.json").read_text())
    assert card["ensemble"]["run"] == old_id
    # The member trained now has the group comparison, the old one not: it is
    # summarised over the member that has it.
    rows = json.loads((out / "summary.json").read_text())["metrics"]
    assert rows["groups_features_linear_balanced_accuracy"]["n"] == 1
    assert rows["svm_balanced_accuracy"]["n"] == 2
