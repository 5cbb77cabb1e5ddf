"""The reference's published checkpoints (kept as fixtures) and the documented encoder
computed by hand, for the tests of the networks and of adopting those checkpoints."""

from pathlib import Path

import numpy as np

# The reference system's published checkpoints (trained on the real data).
REFERENCE = Path(__file__).parent / "fixtures" / "reference_checkpoints"


def hand_embedding(state, x: np.ndarray) -> np.ndarray:
    """The documented encoder in plain NumPy: (Linear -> ReLU -> BatchNorm1d) x 2 -> fc_mu."""
    s = {k: v.double().numpy() for k, v in state.items()}
    h = x.astype(np.float64)
    for lin, bn in (("encoder.0", "encoder.2"), ("encoder.3", "encoder.5")):
        h = np.maximum(h @ s[f"{lin}.weight"].T + s[f"{lin}.bias"], 0.0)
        h = (h - s[f"{bn}.running_mean"]) / np.sqrt(s[f"{bn}.running_var"] + 1e-5)
        h = h * s[f"{bn}.weight"] + s[f"{bn}.bias"]
    return h @ s["fc_mu.weight"].T + s["fc_mu.bias"]
