"""From files to arrays: the table's schema (``schema``), reading tables and turning them
into model inputs (``tables``), held-out boreholes (``splits``), the scaling the models
see (``scaling``), and building the table from the raw LILY files (``lily``)."""
