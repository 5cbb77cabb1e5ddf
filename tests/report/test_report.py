"""Report: one self-contained HTML file that a browser renders with every image loaded."""

import base64
import html
import json
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pandas as pd
import pytest

from lilyvae.cli import main
from lilyvae.data.splits import split_boreholes
from lilyvae.data.tables import training_data_from_frame
from lilyvae.errors import LilyVAEError
from lilyvae.evaluation import EvalConfig, evaluate, write_metrics
from lilyvae.model.embeddings import NamedModel
from lilyvae.report.figures import make_figures
from lilyvae.report.run_report import build_report
from lilyvae.runs.demo import write_synthetic_borehole_table
from lilyvae.synthetic.generator import write_synthetic_table
from lilyvae.training.trainer import train

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CONFIG = EvalConfig(svm_train_rows=400, svm_test_rows=200, gmm_components=3, gmm_rows=400)

# Added to a copy of the report only: after the page has loaded, it writes what the
# page shows: images decoded, tables, resources requested and, for the embedding
# explorer, its points, the hover label of the first point, and each colouring's legend.
CHECK_SCRIPT = """<script>
window.addEventListener('load', function () {
  var imgs = Array.prototype.slice.call(document.images);
  var res = {
    images_loaded: imgs.filter(function (i) { return i.complete && i.naturalWidth > 0; }).length,
    images: imgs.length,
    tables: document.querySelectorAll('table').length,
    requests: performance.getEntriesByType('resource').map(function (r) { return r.name; })
  };
  var gd = document.getElementById('embedding-explorer');
  if (gd) {
    res.points = gd.querySelectorAll('.scatterlayer .point').length;
    Plotly.Fx.hover(gd, [{curveNumber: 0, pointNumber: 0}]);
    var label = gd.querySelector('.hoverlayer .hovertext');
    res.hover = label ? label.textContent : '';
    res.legends = {};
    gd.layout.updatemenus[0].buttons.forEach(function (button) {
      Plotly.restyle(gd, button.args[0]);
      res.legends[button.label] = gd.data.filter(function (t) {
        return t.visible === true && t.showlegend !== false;
      }).length;
    });
  }
  var m = document.createElement('div');
  m.id = 'lilyvae-check';
  m.textContent = 'CHECK ' + JSON.stringify(res) + ' END';
  document.body.appendChild(m);
});
</script>"""


def render_check(html_path: Path) -> dict:
    """What headless Chromium shows of the page (see CHECK_SCRIPT)."""
    with tempfile.TemporaryDirectory() as profile:
        page = Path(profile) / "page.html"
        text = html_path.read_text(encoding="utf-8")
        at = text.rindex("</body>")
        page.write_text(text[:at] + CHECK_SCRIPT + text[at:], encoding="utf-8")
        proc = subprocess.run(
            [
                CHROMIUM,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                f"--user-data-dir={profile}/user",
                "--virtual-time-budget=10000",
                "--dump-dom",
                page.as_uri(),
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
    found = re.search(r"CHECK (\{.*?\}) END", proc.stdout)
    assert found, f"no check marker in Chromium's DOM (rc {proc.returncode}): {proc.stderr[-500:]}"
    return json.loads(html.unescape(found.group(1)))


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    """A small run directory as ``lilyvae demo`` lays it out."""
    root = tmp_path_factory.mktemp("report_run")
    table = write_synthetic_table(root / "data" / "syn.csv", rows=2500, seed=3)
    write_synthetic_borehole_table(table)
    data = training_data_from_frame(pd.read_csv(table), source=str(table))
    split = split_boreholes(data, 0.2, 0)
    models = []
    for kind, name in (("unsupervised", "unsup"), ("semisupervised", "semisup")):
        trained = train(data, model=kind, recipe="hybrid", epochs=1, split=split)
        path = root / "models" / f"{name}.pt"
        trained.save(path)
        models.append(NamedModel(name, path, trained))
    metrics = evaluate(models, data, CONFIG, run_dir=root)
    write_metrics(metrics, root)
    make_figures(
        root / "figures", table, models, metrics, umap_rows=200, scatter_rows=200, prior_rows=1000
    )
    return root


def test_report_contents(run_dir):
    path = build_report(run_dir)
    assert path == run_dir / "report.html"
    text = path.read_text(encoding="utf-8")
    # The page outside the explorer's inline script (Plotly's library).
    page = re.sub(r"<script\b[^>]*>.*?</script>", "", text, flags=re.S)
    n_figures = len(list((run_dir / "figures").glob("*.png")))
    assert page.count('src="data:image/png;base64,') == n_figures >= 10
    # Nothing is loaded from elsewhere: no script file, and no remote resource named
    # outside the inline script (the Chromium test checks the requests made).
    assert not re.search(r"<script[^>]*\bsrc=", text)
    assert not re.search(r"<link\b|(src|href)=[\"']?https?:", page)
    assert 'id="embedding-explorer"' in text and "Plotly" in text
    # One SYNTHETIC banner, which says it once.
    (banner,) = re.findall(r'<div class="banner synthetic" id="synthetic-caveat">(.*?)</div>', text)
    assert banner.upper().startswith("SYNTHETIC") and banner.count("SYNTHETIC") == 1
    for heading in (
        "Summary",
        "Lithology classification from embeddings",
        "Reconstruction R2 per feature",
        "Clustering and latent health",
        "Semi-supervised classification head",
        "Zero-shot lithologies",
        "Data provenance",
        "model card of <b>semisup</b>",
    ):
        assert heading in text
    assert "Scored on held-out boreholes" in text and "IN-SAMPLE:" not in text
    # The run's folder is named, never where it lies: the report is shared.
    assert str(run_dir.resolve()) not in text and str(run_dir.parent) not in text
    assert f"<code>{run_dir.name}</code>" in text
    assert "<td>data/syn.csv</td>" in text and "<td>models/semisup.pt</td>" in text
    # Long values wrap in a field-per-row table, not a row wider than the page.
    assert '<table class="metrics fields"><thead><tr><th>field</th>' in text
    # Every embedded image is a complete PNG.
    for blob in re.findall(r'src="data:image/png;base64,([^"]+)"', page):
        raw = base64.b64decode(blob)
        assert raw[:8] == b"\x89PNG\r\n\x1a\n" and raw[-8:-4] == b"IEND"


@pytest.mark.skipif(
    CHROMIUM is None, reason="chromium is not installed (apt-get install -y chromium)"
)
def test_report_renders_in_chromium(run_dir, tmp_path):
    path = build_report(run_dir, output=tmp_path / "r.html")
    page = render_check(path)
    n_figures = len(list((run_dir / "figures").glob("*.png")))
    assert page["images_loaded"] == page["images"] == n_figures
    assert page["tables"] >= 8
    assert page["requests"] == []  # nothing fetched: it works offline
    # The explorer: a point per row of explorer.parquet, hover with what a user asks.
    points = pd.read_parquet(run_dir / "figures" / "explorer.parquet")
    assert page["points"] == len(points)
    first = points.iloc[0]
    for shown in (first["borehole"], first["lithology"], "GRA:", "MS:", "NGR:", "R:", "G:", "B:"):
        assert shown in page["hover"]
    assert f"{first['depth_m']:g} m" in page["hover"]
    legends = page["legends"]
    assert {"lithology", "lithology group", "borehole", "held-out status"} <= set(legends)
    assert {"GMM cluster (unsup)", "GMM cluster (semisup)"} <= set(legends)
    assert legends["held-out status"] == 2 and all(n >= 2 for n in legends.values())
    # The check notices a broken image.
    broken = tmp_path / "broken.html"
    broken.write_text(
        path.read_text(encoding="utf-8").replace(
            "data:image/png;base64,iVBOR", "data:image/png;base64,AAAA", 1
        ),
        encoding="utf-8",
    )
    page = render_check(broken)
    assert page["images_loaded"] == page["images"] - 1


def test_in_sample_banner(run_dir, tmp_path):
    # Metrics of a model trained on every row: the report says so up front.
    metrics = json.loads((run_dir / "metrics.json").read_text())
    metrics["evaluation"]["mode"] = "IN-SAMPLE"
    (tmp_path / "metrics.json").write_text(json.dumps(metrics))
    path = build_report(tmp_path)
    text = path.read_text()
    assert 'class="banner insample"' in text and "No figures" in text


def test_cli_and_bad_input(run_dir, tmp_path, capsys):
    assert main(["report", "--run-dir", str(run_dir), "--output", str(tmp_path / "x.html")]) == 0
    assert (tmp_path / "x.html").is_file()
    with pytest.raises(LilyVAEError, match="no such metrics file"):
        build_report(tmp_path)
    assert main(["report", "--run-dir", str(tmp_path / "nope")]) == 1
    assert "no such run directory" in capsys.readouterr().err


def test_a_corrupt_sidecar_or_manifest_is_named(run_dir, tmp_path):
    metrics = json.loads((run_dir / "metrics.json").read_text())
    metrics["data"]["path"] = str(tmp_path / "t.csv")
    (tmp_path / "metrics.json").write_text(json.dumps(metrics))
    (tmp_path / "t.synthetic.json").write_text("{not json")
    with pytest.raises(LilyVAEError, match=r"t\.synthetic\.json: not a readable"):
        build_report(tmp_path)
    (tmp_path / "t.synthetic.json").unlink()
    (tmp_path / "figures").mkdir()
    (tmp_path / "figures" / "figures.json").write_text("[]")
    with pytest.raises(LilyVAEError, match=r"figures\.json: not a lilyvae figure manifest"):
        build_report(tmp_path)
    assert not (tmp_path / "report.html").exists()


def test_report_draws_the_figures_a_run_does_not_have_yet(run_dir, tmp_path, capsys):
    """`lilyvae report` on a run with metrics but no figures draws them first."""
    bare = tmp_path / "bare"
    shutil.copytree(run_dir, bare, ignore=shutil.ignore_patterns("figures", "report.html"))
    assert main(["report", "--run-dir", str(bare), "--no-figures"]) == 0
    assert not (bare / "figures").exists()
    assert main(["report", "--run-dir", str(bare)]) == 0
    manifest = json.loads((bare / "figures" / "figures.json").read_text())
    drawn = len(manifest["figures"])
    assert f"drew {drawn} missing figures" in capsys.readouterr().out
    html = (bare / "report.html").read_text(encoding="utf-8")
    assert manifest["figures"] and html.count("data:image/png;base64,") >= len(manifest["figures"])


def test_report_draws_the_figures_a_run_lacks_and_keeps_the_others(run_dir, tmp_path, capsys):
    """One figure deleted from a run with figures: `report` draws it again, only it."""
    run = tmp_path / "run"
    shutil.copytree(run_dir, run, ignore=shutil.ignore_patterns("report.html"))
    figures = run / "figures"
    kept = figures / "dataset_overview.png"
    kept_bytes, kept_mtime = kept.read_bytes(), kept.stat().st_mtime_ns
    (figures / "lithology_counts.png").unlink()
    assert main(["report", "--run-dir", str(run), "--no-figures"]) == 1  # listed but missing
    assert main(["report", "--run-dir", str(run)]) == 0
    assert "drew 1 missing figures" in capsys.readouterr().out
    assert (figures / "lithology_counts.png").is_file()
    assert kept.read_bytes() == kept_bytes and kept.stat().st_mtime_ns == kept_mtime
    manifest = json.loads((figures / "figures.json").read_text())
    names = [f["name"] for f in manifest["figures"]]
    assert names.count("lithology_counts") == 1
    assert names == [
        f["name"] for f in json.loads((run_dir / "figures/figures.json").read_text())["figures"]
    ]
    html = (run / "report.html").read_text(encoding="utf-8")
    assert 'id="fig-lithology_counts"' in html
    # Nothing missing: nothing drawn.
    assert main(["report", "--run-dir", str(run)]) == 0
    assert "missing figures" not in capsys.readouterr().out


def test_a_table_shows_only_what_has_values_and_says_why():
    from lilyvae.evaluation import Table
    from lilyvae.report.run_report import without_empty_cells

    table = Table(
        "What a missing colour scan costs",
        ["subject", "group", "rows", "linear bal. acc", "head bal. acc", "R2 R, G, B"],
        [
            ["unsup", "complete", 10, "0.500", "n/a", "0.900"],
            ["unsup", "without colour", 4, "n/a", "n/a", "n/a"],
            ["semi", "complete", 10, "0.600", "n/a", None],
        ],
        "note.",
    )
    shown, why = without_empty_cells(table)
    assert shown.columns == ["subject", "group", "rows", "linear bal. acc", "R2 R, G, B"]
    assert [r[:2] for r in shown.rows] == [["unsup", "complete"], ["semi", "complete"]]
    assert "1 rows without any score (unsup / without colour / 4)" in why
    assert "head bal. acc (only semi-supervised models have a classification head)" in why
    # A table with values everywhere is left as it is.
    full = Table("t", ["a", "b"], [["x", 1], ["y", 2]])
    assert without_empty_cells(full) == (full, "")
