"""The zero-shot property figure: how well each embedding predicts LILY measurements
it never saw (from ``lilyvae properties``' ``properties.csv``)."""

from __future__ import annotations

from lilyvae.report.figures.spec import FigureInputs, FigureSpec, Needs


def _draw(inputs: FigureInputs, title: str):
    from lilyvae.properties.figure import properties_figure

    return properties_figure(inputs.properties, synthetic=inputs.synthetic)


def _caption(inputs: FigureInputs) -> str:
    frame = inputs.properties
    protocol = ", ".join(sorted(frame["protocol"].dropna().astype(str).unique()))
    return (
        f"R2 of gradient-boosted trees predicting {len(frame):,} LILY variables from each "
        f"embedding and from the six scaled inputs ('features'), {protocol} protocol; "
        "bars are 95% intervals (resampled held-out boreholes), points are sized by "
        "matched rows. A win counts only where the intervals do not overlap."
    )


ZERO_SHOT_PROPERTIES = FigureSpec(
    name="zero_shot_properties",
    title="zero-shot property prediction",
    caption=_caption,
    needs=Needs(("properties",), "no properties.csv (run lilyvae properties first)"),
    draw=_draw,
)
