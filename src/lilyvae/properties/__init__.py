"""Zero-shot property prediction: do the embeddings carry the geology?

``lilyvae properties`` (and :func:`predict_properties`) predicts other LILY
measurements -- carbonate, porosity, P-wave velocity, pore-water chemistry, ... -- from
each model's embedding of the matching 20 cm bin, beside a baseline on the six input
measurements, with gradient-boosted trees scored on held-out boreholes.
"""

from __future__ import annotations

from lilyvae.lazy_exports import lazy_exports

# Lazy, like the package's top level: importing lilyvae.properties.matching (the
# synthetic tables do) must not load the scoring stack.
_EXPORTS = {"predict_properties": "api", "read_properties": "api"}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
