"""What the LILY release holds: its four files, their columns, and its missing-value strings.

The release (IODP "LIMS with Lithology", Zenodo record 8408296) holds one CSV per
measurement, one row per instrument reading. These names are shared by the builder and by
the synthetic look-alikes of the files (:mod:`lilyvae.synthetic.lily_files`).
"""

from __future__ import annotations

from lilyvae.data.schema import GRA, MS, NGR

LILY_TABLES: tuple[str, ...] = ("GRA", "MS", "NGR", "RGB")
LILY_FILES = {t: f"{t}_DataLITH.csv" for t in LILY_TABLES}
MEASUREMENT_COLUMNS: dict[str, tuple[str, ...]] = {
    "GRA": (GRA,),
    "MS": (MS,),
    "NGR": (NGR,),
    "RGB": ("R", "G", "B"),
}
DEPTH_COLUMN = "Depth CSF-A (m)"
LATITUDE_COLUMN = "Latitude (DD)"
LONGITUDE_COLUMN = "Longitude (DD)"
WATER_DEPTH_COLUMN = "Water Depth (mbsl)"
ID_COLUMNS = ("Exp", "Site", "Hole")
PRINCIPAL_COLUMN = "Principal"
#: The metadata columns shared by every LILY file, in the release's order.
METADATA_COLUMNS: tuple[str, ...] = (
    "Exp",
    "Site",
    "Hole",
    "Core",
    "Type",
    "Sect",
    "A/W",
    "Offset (cm)",
    DEPTH_COLUMN,
    "Depth CSF-B (m)",
    "Timestamp (UTC)",
    "Instrument",
    "Text ID",
    "Test No.",
    "Comments",
    "Prefix",
    PRINCIPAL_COLUMN,
    "Suffix",
    "Full Lithology",
    "Simplified Lithology",
    "Lithology Type",
    LATITUDE_COLUMN,
    LONGITUDE_COLUMN,
    WATER_DEPTH_COLUMN,
    "Expanded Core Type",
)
POSITION_COLUMNS = (LATITUDE_COLUMN, LONGITUDE_COLUMN, WATER_DEPTH_COLUMN)


#: Cells read as missing: pandas' default NA strings (the reference read the files with
#: pandas), matched exactly, quoted or not.
NA_TOKENS: tuple[str, ...] = (
    "",
    "#N/A",
    "#N/A N/A",
    "#NA",
    "-1.#IND",
    "-1.#QNAN",
    "-NaN",
    "-nan",
    "1.#IND",
    "1.#QNAN",
    "<NA>",
    "N/A",
    "NA",
    "NULL",
    "NaN",
    "None",
    "n/a",
    "nan",
    "null",
)

#: Written beside synthetic look-alikes of the files (``lilyvae synth-lily``); its presence
#: marks a build's inputs, and so its outputs, as SYNTHETIC.
SYNTHETIC_SIDECAR_NAME = "lily.synthetic.json"
