"""SYNTHETIC LILY-like data: the training table and the raw LILY files, from one generator
of synthetic geology.

The real data cannot ship, so this stage makes look-alikes that exercise the rest of the
package end to end. Everything it writes is labelled SYNTHETIC (a sidecar JSON beside
every file); no value in it is a measurement. The table imitates the shape of the real
20 cm training table built from the IODP LILY database: its schema, the 296 real
borehole IDs and their row counts, the 139 real lithology names and their row counts,
and the marginals of the six measurements.

The generator works in layers, each drawn from its own child stream of
``numpy.random.SeedSequence(seed)``; a module each:

- ``counts``: the real counts shipped in ``resources/``, scaled to any table size;
- ``signatures``: each lithology's fixed physical signature (independent of the seed);
- ``geography``: a plausible ocean position per site;
- ``stratigraphy``: which borehole, depth bin and lithology every row has (beds);
- ``measurements``: :class:`~lilyvae.synthetic.measurements.SyntheticLily`, the
  noiseless values at any depth and the noisy 20 cm table;
- ``generator``: writing the table and its sidecar (``lilyvae synth``);
- ``lily_files``: writing raw LILY tables, one row per instrument reading, with the
  faults real files have (``lilyvae synth-lily``).
"""
