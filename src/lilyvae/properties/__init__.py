"""Zero-shot property prediction: do the embeddings carry the geology?

``lilyvae properties`` (and :func:`predict_properties`) predicts other LILY
measurements -- carbonate, porosity, P-wave velocity, pore-water chemistry, ... -- from
each model's embedding of the matching 20 cm bin, beside a baseline on the six input
measurements, with gradient-boosted trees scored on held-out boreholes.
"""

from __future__ import annotations

__all__ = ["predict_properties", "read_properties"]


def __getattr__(name: str):
    # Lazy, like the package's top level: importing lilyvae.properties.matching (the
    # synthetic tables do) must not load the scoring stack.
    if name in ("predict_properties", "read_properties"):
        from lilyvae.properties import api

        return getattr(api, name)
    raise AttributeError(f"module 'lilyvae.properties' has no attribute {name!r}")
