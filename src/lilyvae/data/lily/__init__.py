"""Build the 20 cm training table from the raw LILY files, out of core.

The LILY release (IODP "LIMS with Lithology", Zenodo record 8408296) holds one CSV per
measurement, one row per instrument reading. :func:`build_dataset` reads the four the
training table needs (``GRA_DataLITH.csv``, ``MS_DataLITH.csv``, ``NGR_DataLITH.csv``,
``RGB_DataLITH.csv``) and writes the table with the reference's rules:

1. per file: ``Borehole_ID = Exp-Site-Hole``; rows missing the ID, the depth,
   ``Principal`` or a measurement are dropped (a measurement that is not a finite number
   counts as missing, and is counted);
2. depth bin index = round half to even of ``Depth CSF-A (m) / bin_size``, the quotient
   computed in float64 exactly as the reference's pandas code did;
3. per (Borehole_ID, bin): the mean of each measurement and, in the GRA file, the most
   frequent ``Principal`` (ties: the alphabetically first, by code point);
4. inner join GRA x MS x NGR x RGB on (Borehole_ID, bin), ``Principal`` from GRA;
5. drop bins whose GRA mean is outside [0.3, 4.0] g/cm3, then bins with an R, G or B
   mean outside [0, 255].

The output has the nine columns of :data:`lilyvae.data.schema.TABLE_COLUMNS`, sorted by
``Borehole_ID`` then ``Depth_Bin``. ``Depth_Bin`` is written as a clean decimal
(``round(index * bin_size, decimals of bin_size)``: 188.4, not the reference's
188.40000000000003), so joins on it are safe.

How it stays out of core: each file is read once by DuckDB and reduced on the fly to
per-bin aggregates (about a tenth of its rows); DuckDB's memory is capped and spills to
disk if needed; the joins, filters and the final sort run on the aggregates; input
checksums are computed in a background thread while DuckDB reads.

The modules, in the order a build uses them:

- ``release``: the files' names and columns, and the missing-value strings;
- ``rules``: the reference's rules (bins, ranges, drop reasons) as constants and NumPy;
- ``inputs``: finding the files and checking their headers;
- ``outputs``: the output names, checked before and written after the work;
- ``checksums``: sha256 of the inputs, in a background thread;
- ``sql``: the statements DuckDB runs; ``scan``: one file read and counted;
- ``combine``: the join, the filters and the fetched tables;
- ``manifest``: what the build records; ``progress``: its log;
- ``build``: :func:`build_dataset`, putting the steps in order.
"""

from lilyvae.data.lily.build import build_dataset
from lilyvae.data.lily.outputs import sidecar_paths
from lilyvae.data.lily.release import (
    DEPTH_COLUMN,
    ID_COLUMNS,
    LILY_FILES,
    LILY_TABLES,
    MEASUREMENT_COLUMNS,
    METADATA_COLUMNS,
    PRINCIPAL_COLUMN,
)
from lilyvae.data.lily.rules import GRA_RANGE, RGB_RANGE, depth_bin_index, depth_bin_value

__all__ = [
    "DEPTH_COLUMN",
    "GRA_RANGE",
    "ID_COLUMNS",
    "LILY_FILES",
    "LILY_TABLES",
    "MEASUREMENT_COLUMNS",
    "METADATA_COLUMNS",
    "PRINCIPAL_COLUMN",
    "RGB_RANGE",
    "build_dataset",
    "depth_bin_index",
    "depth_bin_value",
    "sidecar_paths",
]
