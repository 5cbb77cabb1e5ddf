"""Many models at once, and the whole pipeline: bootstrap ensembles, sweeps, the demo."""
