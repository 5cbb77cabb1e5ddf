"""Training: the configuration, the one trainer, and its engine (hand-written
passes, fused CPU kernels)."""
