"""SYNTHETIC raw LILY tables (``*_DataLITH.csv``), for building the training table.

The real LILY release (Zenodo record 8408296) holds one CSV per measurement, one row
per instrument reading, about 11 GB in all. It cannot ship with this project, so this
package writes look-alikes of the four files the training table is built from
(``GRA_DataLITH.csv``, ``MS_DataLITH.csv``, ``NGR_DataLITH.csv``, ``RGB_DataLITH.csv``)
with the real column names, so that ``lilyvae build-dataset`` can be exercised, tested
and timed. Everything written here is SYNTHETIC: a sidecar ``lily.synthetic.json`` in
the directory says so.

How the readings are made
-------------------------
The readings come from the same generator as ``lilyvae synth``
(:class:`lilyvae.synthetic.measurements.SyntheticLily`): its boreholes, beds and
noiseless values (its ``true_values`` and ``lithology_at``). Each instrument samples
every borehole at its own spacing (GRA and MS every 2.5 cm, NGR every 10 cm, the RGB
line scan every 0.5 cm: 8, 8, 2 and 40 readings
per 20 cm bin), each reading being the true value at its depth plus instrument noise
scaled so that the mean of a bin has about the noise of a row of the synthetic table
(:data:`lilyvae.synthetic.measurements.MEASUREMENT_NOISE`). Building these files
therefore gives a table like the one ``lilyvae synth`` writes for the same seed and size.

What real files contain, on purpose
-----------------------------------
Missing cells (measurements, ``Principal``, depths, holes); GRA readings and whole bins
outside [0.3, 4.0] g/cm3 (empty liner, disturbed core); colours and whole bins outside
[0, 255]; non-numeric junk in the MS and G columns; boreholes present in only some of
the tables (extra holes of real sites); bins missing from one table (gaps); readings
exactly on 20 cm bin edges (the 2.5 cm and 0.5 cm grids start on an edge); lithology
votes that tie inside a bin; ``Principal`` that disagrees between tables; the 25
shared metadata columns plus extra columns, in a different order in every file;
plausible ocean latitudes, longitudes and water depths. The sidecar counts each of
these, so tests can check the builder against them.

``scale`` is the number of 20 cm bins relative to the real training table: scale 1 gives
238,506 bins of the 296 real boreholes (about 14 M readings, 2.7 GB), scale 0.01 about
150 k readings (the smallest scale is 296 / 238,506, one bin per borehole).

The modules: ``holes`` (the real boreholes and extra holes), ``readings`` (each
instrument's readings and noise), ``artefacts`` (the faults above, counted), ``rows``
(the files' columns as Arrow tables) and ``write`` (the files and the sidecar).
"""

from lilyvae.synthetic.lily_files.write import (
    DEFAULT_SCALE,
    GENERATOR_VERSION,
    SIDECAR_NAME,
    check_scale,
    write_synthetic_lily,
)

__all__ = [
    "DEFAULT_SCALE",
    "GENERATOR_VERSION",
    "SIDECAR_NAME",
    "check_scale",
    "write_synthetic_lily",
]
