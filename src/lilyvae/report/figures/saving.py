"""What drawing a figure leaves behind: the PNG (and PDF) written atomically, and the
records of drawn figures that ``figures.json`` lists. Shared by a run's figures
(:mod:`~lilyvae.report.figures.all_figures`) and an ensemble's
(:mod:`~lilyvae.report.figures.ensemble_figures`)."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from pathlib import Path

from lilyvae.errors import LilyVAEError
from lilyvae.files import write_atomic
from lilyvae.report.figures.style import DPI, pyplot
from lilyvae.run_folder import MANIFEST, read_figure_manifest


@dataclass
class FigureInfo:
    """A drawn figure as ``figures.json`` lists it."""

    name: str
    file: str
    title: str
    caption: str
    pdf: str | None = None
    seconds: float | None = None  # drawing it, shared work included where it came first


@dataclass
class FigureSet:
    output_dir: Path
    figures: list[FigureInfo]
    skipped: dict[str, str]
    manifest: Path
    drawn: list[str] = field(default_factory=list)  # names drawn this time (not kept)


def save_figure(fig, out: Path, name: str, pdf: bool) -> tuple[str, str | None]:
    """Write ``<name>.png`` (and ``<name>.pdf``) atomically; close the figure.

    The PNG has 256 colours at most (a palette, no dithering): figures are flat colours
    and anti-aliased lines, which look the same, and the files, all embedded in the
    report, are about a third of the size. The figure is rendered to raw RGBA (not
    encoded as a PNG only to be decoded again), and the palette image is written with
    zlib's default level: PIL's ``optimize`` made the files 8% smaller at twice the
    cost of writing them."""
    import numpy as np
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from PIL import Image

    fig.set_dpi(DPI)
    canvas = FigureCanvasAgg(fig)  # what savefig's PNG writer renders with
    canvas.draw()
    rgba = np.asarray(canvas.buffer_rgba())
    image = Image.fromarray(rgba[..., :3].copy(), "RGB")
    palette = image.quantize(256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    png = out / f"{name}.png"
    write_atomic(png, lambda tmp: palette.save(tmp, format="PNG", dpi=(DPI, DPI)))
    pdf_name = None
    if pdf:
        write_atomic(out / f"{name}.pdf", lambda tmp: fig.savefig(tmp, format="pdf"))
        pdf_name = f"{name}.pdf"
    pyplot().close(fig)
    return png.name, pdf_name


@dataclass
class DrawnBefore:
    """What a folder's ``figures.json`` lists whose files are still there: the figures
    (by name) and the explorer's entry (None when it or its file is gone)."""

    figures: dict[str, FigureInfo]
    explorer: dict | None

    @classmethod
    def none(cls) -> DrawnBefore:
        return cls({}, None)


def drawn_before(out: Path, pdf: bool) -> DrawnBefore:
    """The figures of ``out`` that need not be drawn again: listed in its manifest, with
    their PNG (and PDF, when PDFs are asked for) on disk. A missing or damaged manifest
    keeps nothing, so every figure is drawn again."""
    if not (out / MANIFEST).is_file():
        return DrawnBefore.none()
    try:
        manifest = read_figure_manifest(out)
    except LilyVAEError:
        return DrawnBefore.none()
    names = [f.name for f in fields(FigureInfo)]
    kept = {}
    for entry in manifest["figures"]:
        if not (out / entry["file"]).is_file():
            continue
        if pdf and not (entry.get("pdf") and (out / entry["pdf"]).is_file()):
            continue
        info = FigureInfo(**{k: entry.get(k) for k in names if k in entry or k == "name"})
        info.name = info.name or Path(entry["file"]).stem
        kept[info.name] = info
    explorer = manifest.get("explorer")
    if not (isinstance(explorer, dict) and (out / str(explorer.get("file"))).is_file()):
        explorer = None
    return DrawnBefore(kept, explorer)
