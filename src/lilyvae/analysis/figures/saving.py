"""What drawing a figure leaves behind: the PNG (and PDF) written atomically, and the
records of drawn figures that ``figures.json`` lists. Shared by a run's figures
(:mod:`~lilyvae.analysis.figures.drawing`) and an ensemble's
(:mod:`~lilyvae.analysis.figures.ensemble_figures`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from lilyvae.analysis.figures.style import DPI, pyplot
from lilyvae.files import write_atomic


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


def save_figure(fig, out: Path, name: str, pdf: bool) -> tuple[str, str | None]:
    """Write ``<name>.png`` (and ``<name>.pdf``) atomically; close the figure.

    The PNG has 256 colours at most (a palette, no dithering): figures are flat colours
    and anti-aliased lines, which look the same, and the files, all embedded in the
    report, are about a third of the size."""
    import io

    from PIL import Image

    buffer = io.BytesIO()
    fig.savefig(buffer, dpi=DPI, format="png")
    with Image.open(buffer) as image:
        palette = image.convert("RGB").quantize(
            256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE
        )
    png = out / f"{name}.png"
    write_atomic(png, lambda tmp: palette.save(tmp, format="PNG", optimize=True, dpi=(DPI, DPI)))
    pdf_name = None
    if pdf:
        write_atomic(out / f"{name}.pdf", lambda tmp: fig.savefig(tmp, format="pdf"))
        pdf_name = f"{name}.pdf"
    pyplot().close(fig)
    return png.name, pdf_name
