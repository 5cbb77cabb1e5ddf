"""A run directory: every file found through one object; corrupt files are one-line errors."""

import json

import pytest
from cli_helpers import run

from lilyvae.data.tables import training_data_from_frame
from lilyvae.errors import LilyVAEError
from lilyvae.report.run_contents import run_embeddings, run_models
from lilyvae.run_folder import RunDir, read_figure_manifest, read_metrics_file
from lilyvae.training.trainer import train


@pytest.fixture(scope="module")
def trained(small_frame):
    data = training_data_from_frame(small_frame, source="small")
    return train(data, model="unsupervised", recipe="hybrid", epochs=1)


def test_layout(tmp_path):
    run_dir = RunDir(tmp_path)
    assert run_dir.metrics == tmp_path / "metrics.json"
    assert run_dir.metrics_markdown == tmp_path / "metrics.md"
    assert run_dir.roc_curves == tmp_path / "roc_curves.json"
    assert run_dir.embeddings == tmp_path / "embeddings.parquet"
    assert run_dir.model_path("unsup") == tmp_path / "models" / "unsup.pt"
    assert run_dir.figure_manifest == tmp_path / "figures" / "figures.json"
    assert (run_dir.report, run_dir.summary) == (tmp_path / "report.html", tmp_path / "summary.txt")
    elsewhere = RunDir(tmp_path, figures=tmp_path / "other")
    assert elsewhere.figure_manifest == tmp_path / "other" / "figures.json"
    with pytest.raises(LilyVAEError, match="no such run directory"):
        RunDir.existing(tmp_path / "nope")


@pytest.mark.parametrize(
    "name, read",
    [
        ("metrics.json", lambda r: r.read_metrics()),
        ("roc_curves.json", lambda r: r.read_roc_curves()),
        ("figures/figures.json", lambda r: r.read_figure_manifest_if_present()),
    ],
)
def test_a_corrupt_file_is_a_one_line_error_naming_it(tmp_path, name, read):
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text('{"format": "lilyvae-metrics", ', encoding="utf-8")
    with pytest.raises(LilyVAEError) as info:
        read(RunDir(tmp_path))
    message = str(info.value)
    assert message.startswith(str(path)) and "\n" not in message


def test_missing_files(tmp_path):
    run_dir = RunDir(tmp_path)
    assert run_dir.read_metrics_if_present() is None and run_dir.read_roc_curves() is None
    assert run_dir.read_figure_manifest_if_present() is None and run_embeddings(run_dir) is None
    with pytest.raises(LilyVAEError, match="no such metrics file"):
        read_metrics_file(tmp_path)
    with pytest.raises(LilyVAEError, match="no figure manifest"):
        read_figure_manifest(tmp_path)
    # A JSON object of another kind is not a metrics file.
    run_dir.metrics.write_text(json.dumps({"format": "something else"}), encoding="utf-8")
    with pytest.raises(LilyVAEError, match="not a lilyvae metrics file"):
        run_dir.read_metrics()


def test_models_from_metrics_then_from_the_models_folder(tmp_path, trained):
    run_dir = RunDir(tmp_path)
    trained.save(run_dir.model_path("first"))
    trained.save(run_dir.model_path("second"))
    assert run_models(run_dir, None) == [
        ("first", run_dir.model_path("first")),
        ("second", run_dir.model_path("second")),
    ]
    # The metrics name the models, with checkpoints relative to the run directory.
    metrics = {"models": {"only": {"checkpoint": "models/second.pt"}}}
    assert run_models(run_dir, metrics) == [("only", run_dir.model_path("second"))]
    with pytest.raises(LilyVAEError, match="model 'gone'"):
        run_models(run_dir, {"models": {"gone": {"checkpoint": "models/gone.pt"}}})


def test_data_table(tmp_path, small_csv):
    run_dir = RunDir(tmp_path)
    with pytest.raises(LilyVAEError, match="no data table found"):
        run_dir.data_table(None)
    assert run_dir.data_table({"data": {"path": str(small_csv)}}) == small_csv
    run_dir.data_dir.mkdir()
    (run_dir.data_dir / "t.boreholes.csv").write_text("Borehole_ID\n", encoding="utf-8")
    (run_dir.data_dir / "t.csv").write_text("x\n", encoding="utf-8")
    assert run_dir.data_table({"data": {"path": "data/t.csv"}}) == run_dir.data_dir / "t.csv"
    assert run_dir.data_table({"data": {"path": "moved.csv"}}) == run_dir.data_dir / "t.csv"


def test_commands_name_a_corrupt_file(tmp_path, capsys):
    (tmp_path / "metrics.json").write_text("{", encoding="utf-8")
    code, _, err = run(["report", "--run-dir", tmp_path], capsys)
    assert code == 1 and len(err) == 1 and str(tmp_path / "metrics.json") in err[0]
    code, _, err = run(["figures", "--run-dir", tmp_path], capsys)
    assert code == 1 and len(err) == 1 and "not a readable metrics file" in err[0]
