"""SYNTHETIC LILY-like data: the training table and the raw LILY files, from one
generator of synthetic geology."""
