"""From files to arrays: the table's schema, loading, borehole splits, scaling,
and building the table from the raw LILY files."""
