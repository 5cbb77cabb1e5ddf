"""SYNTHETIC provenance travels with the data: one synthetic source followed through
every command a user runs, and a table of unknown origin left unmarked."""

import json
import shutil
from pathlib import Path

import pytest
from cli_helpers import run

from lilyvae.data.provenance import UNKNOWN, Provenance, table_provenance
from lilyvae.data.tables import load_training_data
from lilyvae.model.checkpoint import read_card

EVAL_FLAGS = ["--svm-train-rows", 300, "--svm-test-rows", 200, "--gmm-components", 3]
EVAL_FLAGS += ["--gmm-rows", 300, "--quiet"]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """A table built by ``build-dataset`` from ``synth-lily`` files (no sidecar of its own)."""
    from lilyvae.cli import main

    root = tmp_path_factory.mktemp("provenance")
    raw, table = root / "raw", root / "built.csv"
    assert main(["synth-lily", "--output-dir", str(raw), "--scale", "0.008", "--quiet"]) == 0
    assert main(["build-dataset", "--lily-dir", str(raw), "--output", str(table), "--quiet"]) == 0
    return table


def test_a_built_synthetic_table_is_marked_through_every_step(built, tmp_path, capsys):
    assert not built.with_name("built.synthetic.json").exists()  # only the manifest marks it
    data = load_training_data(built)
    assert data.origin.synthetic and data.origin.evidence.endswith("built.manifest.json")

    model = tmp_path / "semi.pt"
    args = ["train", "--model", "semisupervised", "--data", built, "--output", model]
    code, out, err = run([*args, "--epochs", 1, "--holdout-boreholes", 0.25, "--quiet"], capsys)
    assert code == 0, err
    assert out.count("(SYNTHETIC data)") == 2  # the data line and the trained line
    card = read_card(model)
    assert card.data["synthetic"] is True and card.origin.synthetic
    assert "SYNTHETIC" in card.data["synthetic_notice"]
    code, out, err = run(["inspect", model], capsys)
    assert code == 0 and "(SYNTHETIC data)" in out, err

    run_dir = tmp_path / "run"
    args = ["evaluate", "--model", model, "--data", built, "--output-dir", run_dir]
    code, out, err = run([*args, *EVAL_FLAGS], capsys)
    assert code == 0, err
    assert "SYNTHETIC DATA" in out
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["synthetic"] is True and metrics["data"]["synthetic"] is True
    assert metrics["models"]["semisup"]["trained_on_synthetic"] is True
    assert "SYNTHETIC DATA" in (run_dir / "metrics.md").read_text()

    code, _, err = run(["figures", "--run-dir", run_dir, "--umap-rows", 200, "--quiet"], capsys)
    assert code == 0, err
    figures = json.loads((run_dir / "figures" / "figures.json").read_text())
    assert figures["synthetic"] is True and figures["figures"]
    for fig in figures["figures"]:
        assert fig["title"].startswith("SYNTHETIC data: ")
        assert fig["caption"].startswith("SYNTHETIC data (not LILY). ")

    code, _, err = run(["report", "--run-dir", run_dir], capsys)
    assert code == 0, err
    html = (run_dir / "report.html").read_text()
    assert 'id="synthetic-caveat"' in html and 'id="data-synthetic"' in html
    assert "built.manifest.json" in html

    # Property tables without their sidecar: the table and the model still mark the run.
    lily = tmp_path / "lily"
    lily.mkdir()
    shutil.copy(built.parent / "raw" / "MAD_DataLITH.csv", lily)
    args = ["properties", "--lily-dir", lily, "--data", built, "--model", model]
    args += ["--output-dir", tmp_path / "props", "--tables", "MAD", "--rounds", 3]
    code, _, err = run([*args, "--min-rows", 20, "--workers", 1, "--quiet"], capsys)
    assert code == 0, err
    props = json.loads((tmp_path / "props" / "properties.json").read_text())
    assert props["synthetic"] is True
    assert [Path(p).name for p in props["synthetic_sources"]] == [
        "built.manifest.json",
        "semi.meta.json",
    ]


def test_a_model_trained_on_synthetic_data_marks_an_unmarked_table(built, tmp_path, capsys):
    """A copy of the table has no sidecar (origin unknown, not marked), but the model
    was trained on synthetic data: its card says so, and so do the metrics."""
    model = tmp_path / "unsup.pt"
    args = ["train", "--model", "unsupervised", "--data", built, "--output", model]
    assert run([*args, "--epochs", 1, "--quiet"], capsys)[0] == 0
    copy = tmp_path / "copy.csv"
    shutil.copy(built, copy)
    assert load_training_data(copy).origin == UNKNOWN
    args = ["evaluate", "--model", model, "--data", copy, "--output-dir", tmp_path / "run"]
    code, _, err = run([*args, *EVAL_FLAGS], capsys)
    assert code == 0, err
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["data"]["synthetic"] is False
    assert metrics["synthetic"] is True
    assert metrics["synthetic_notice"] == "models unsup were trained on SYNTHETIC data"


def test_a_table_of_unknown_origin_is_not_marked(small_csv, tmp_path, capsys):
    model = tmp_path / "m.pt"
    args = ["train", "--model", "unsupervised", "--data", small_csv, "--output", model]
    code, out, err = run([*args, "--epochs", 1, "--quiet"], capsys)
    assert code == 0, err
    assert "SYNTHETIC" not in out
    card = read_card(model)
    assert card.data["synthetic"] is False and not card.origin.synthetic


def test_provenance_reads_sidecars_and_manifests(tmp_path):
    table = tmp_path / "t.csv"
    assert table_provenance(table) == UNKNOWN
    (tmp_path / "t.manifest.json").write_text(json.dumps({"synthetic_inputs": False}))
    assert table_provenance(table) == UNKNOWN  # built from real files
    (tmp_path / "t.synthetic.json").write_text("{not json")
    origin = table_provenance(table)  # an unreadable sidecar still marks the table
    assert origin.synthetic and "unreadable" in origin.notice
    (tmp_path / "t.synthetic.json").write_text(json.dumps({"synthetic": True, "notice": "made"}))
    assert table_provenance(table) == Provenance(True, "made", str(tmp_path / "t.synthetic.json"))
    record = table_provenance(table).to_dict()
    assert Provenance.from_record(record) == table_provenance(table)
    assert Provenance.from_record({}) == UNKNOWN  # a card written before the field existed
