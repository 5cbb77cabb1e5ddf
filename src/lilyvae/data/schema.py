"""The training table's schema: its column names and the groups of them the stages use.

The table is the one the reference system trained on (``vae_training_data_v2_20cm.csv``):
one row per 20 cm depth bin of one borehole, nine columns (:data:`TABLE_COLUMNS`). The six
measurement columns are the model's inputs, in the order of :data:`FEATURE_COLS`; every
stage after this one (scaling, the networks, embeddings, figures) relies on that order.
"""

from __future__ import annotations

BOREHOLE_COL = "Borehole_ID"
DEPTH_COL = "Depth_Bin"
LABEL_COL = "Principal"

GRA = "Bulk density (GRA)"
MS = "Magnetic susceptibility (instr. units)"
NGR = "NGR total counts (cps)"

#: The six model inputs, in the order the reference models expect them.
FEATURE_COLS: tuple[str, ...] = (GRA, MS, NGR, "R", "G", "B")

#: Short names for the features, for tables and figures.
FEATURE_SHORT: tuple[str, ...] = ("GRA", "MS", "NGR", "R", "G", "B")

#: The colour inputs: one line scan of the split core gives all three, so a bin either
#: has all three or none (in the real data 41% of the GRA, MS, NGR bins have none).
COLOUR_COLS: tuple[str, ...] = ("R", "G", "B")
#: Positions of the colour inputs in FEATURE_COLS.
COLOUR_INDEX: tuple[int, ...] = (3, 4, 5)

#: The training table's nine columns, in file order.
TABLE_COLUMNS: tuple[str, ...] = (
    BOREHOLE_COL,
    DEPTH_COL,
    GRA,
    LABEL_COL,
    MS,
    NGR,
    "R",
    "G",
    "B",
)

#: Columns of a borehole table ``<table stem>.boreholes.csv`` written beside a table
#: (by ``build-dataset``, and by the demo for its synthetic table).
BOREHOLE_TABLE_COLUMNS: tuple[str, ...] = (
    BOREHOLE_COL,
    "latitude",
    "longitude",
    "water_depth_m",
    "rows",
    "min_depth_m",
    "max_depth_m",
)
