"""Ensembles get figures and a report: ``lilyvae figures`` and ``lilyvae report`` on a
bootstrap or sweep directory, and the exit status of a run whose members partly failed."""

import json

import pytest
from cli_helpers import run

from lilyvae.cli.runs_commands import EXIT_MEMBERS_FAILED, exit_status
from lilyvae.errors import LilyVAEError
from lilyvae.report.ensemble_run import read_ensemble
from lilyvae.synthetic.generator import write_synthetic_table


@pytest.fixture(scope="module")
def synth_csv(tmp_path_factory):
    """A SYNTHETIC table with its sidecar: the runs on it are marked."""
    return write_synthetic_table(tmp_path_factory.mktemp("ens") / "synth.csv", rows=3000, seed=5)


@pytest.fixture(scope="module")
def boot(synth_csv, tmp_path_factory):
    from lilyvae.cli import main

    out = tmp_path_factory.mktemp("boot") / "run"
    args = ["bootstrap", "--model", "unsupervised", "--n", "3", "--data", str(synth_csv)]
    args += ["--output-dir", str(out), "--epochs", "1", "--holdout-boreholes", "0.2"]
    assert main([*args, "--eval-rows", "1500", "--workers", "1", "--quiet"]) == 0
    return out


def sweep_args(data, out, lr="1e-3,100"):
    args = ["sweep", "--model", "unsupervised", "--grid", f"lr={lr}", "beta=0.5,1"]
    args += ["--seeds", 3, "--data", data, "--output-dir", out, "--epochs", 2, "--no-eval"]
    return [*args, "--workers", 1, "--quiet"]


def test_a_bootstrap_gets_its_figures_and_report(boot, capsys):
    summary = json.loads((boot / "summary.json").read_text())
    manifest = json.loads((boot / "run.json").read_text())
    assert summary["synthetic"] is True and manifest["synthetic"] is True
    assert "SYNTHETIC" in manifest["synthetic_notice"]
    members = (boot / "members.csv").read_text().splitlines()
    assert "synthetic" in members[0].split(",") and all(",True," in r for r in members[1:])

    code, out, err = run(["figures", "--run-dir", boot], capsys)
    assert code == 0, err
    assert "wrote 1 figures" in out
    figures = json.loads((boot / "figures" / "figures.json").read_text())
    assert figures["kind"] == "bootstrap" and figures["synthetic"] is True
    (fig,) = figures["figures"]
    assert fig["name"] == "member_metrics" and (boot / "figures" / fig["file"]).is_file()
    assert fig["title"].startswith("SYNTHETIC data: ") and "95% interval" in fig["caption"]

    code, out, err = run(["report", "--run-dir", boot], capsys)
    assert code == 0, err
    html = (boot / "report.html").read_text()
    assert 'id="synthetic-caveat"' in html and "3 of 3 members ok" in html
    assert "data:image/png;base64," in html and "95% interval of the mean" in html
    assert summary["run_id"] in html and "svm_accuracy" in html  # the manifest, the metrics
    assert "<script" not in html
    verdict = summary["group_comparison"]["verdict"]
    assert 'id="group-verdict">SYNTHETIC data. Lithology groups' in html
    assert verdict.split(";")[0] in html  # the members' paired verdict, escaped


def test_a_sweep_with_failures_is_drawn_and_reported(synth_csv, tmp_path, capsys):
    out = tmp_path / "sweep"
    code, stdout, err = run(sweep_args(synth_csv, out), capsys)
    assert code == 0, err  # some members finished: the default exit status is 0
    assert "6 of 12 members ok, 6 failed" in stdout

    code, _, err = run(["figures", "--run-dir", out], capsys)
    assert code == 0, err
    figures = json.loads((out / "figures" / "figures.json").read_text())
    assert [f["name"] for f in figures["figures"]] == ["sweep_lr", "sweep_beta"]
    assert "one line per setting of beta" in figures["figures"][0]["caption"]

    code, _, err = run(["report", "--run-dir", out], capsys)
    assert code == 0, err
    html = (out / "report.html").read_text()
    assert 'id="failures"' in html and "diverged: non-finite loss" in html
    assert "lr=100,beta=0.5" in html and html.count("<figure") == 2

    # CI: --strict makes the same run non-zero (re-running retries the failed members).
    code, stdout, err = run([*sweep_args(synth_csv, out), "--strict"], capsys)
    assert code == EXIT_MEMBERS_FAILED
    assert err == [
        "lilyvae sweep: 6 of 12 members did not finish (exit status 3; re-run the command "
        "to retry them)"
    ]


def test_a_run_where_no_member_finished_is_non_zero(synth_csv, tmp_path, capsys):
    out = tmp_path / "sweep"
    code, stdout, _ = run(sweep_args(synth_csv, out, lr="100,1000"), capsys)
    assert code == EXIT_MEMBERS_FAILED and "0 of 12 members ok, 12 failed" in stdout
    code, _, err = run(["figures", "--run-dir", out], capsys)
    assert code == 0, err
    skipped = json.loads((out / "figures" / "figures.json").read_text())["skipped"]
    assert skipped == {"sweep_lr": "no member finished", "sweep_beta": "no member finished"}
    assert run(["report", "--run-dir", out], capsys)[0] == 0


def test_exit_status():
    assert exit_status({"ok": 4, "members": 4}, strict=True) == 0
    assert exit_status({"ok": 3, "members": 4}, strict=False) == 0
    assert exit_status({"ok": 3, "members": 4}, strict=True) == EXIT_MEMBERS_FAILED
    assert exit_status({"ok": 0, "members": 4}, strict=False) == EXIT_MEMBERS_FAILED


def test_bad_ensemble_directories_get_one_line(boot, tmp_path, capsys):
    code, _, err = run(["figures", "--run-dir", boot, "--data", "x.csv"], capsys)
    assert code == 1 and "drop --data and --model" in err[0]
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "run.json").write_text((boot / "run.json").read_text())
    code, _, err = run(["report", "--run-dir", broken], capsys)
    assert code == 1 and len(err) == 1 and "summary.json: no ensemble summary" in err[0]
    (broken / "summary.json").write_text(json.dumps({"format": "lilyvae-ensemble-summary"}))
    with pytest.raises(LilyVAEError, match=r"summary\.json: not a lilyvae ensemble summary"):
        read_ensemble(broken)
    assert not (broken / "report.html").exists()
