"""The LAS 2.0 file of one predicted borehole, and the fast fixed-decimal text of its
data section.

lasio writes the header sections; the data section (a million bins times 18 curves) is
formatted here with whole-array NumPy operations: lasio formats value by value in
Python, and even pandas' C writer spends most of its time calling ``"%.5f" % value``.
The text is the same, byte for byte, as ``"%.5f"`` of each value.
"""

from __future__ import annotations

import io
import re

import numpy as np
import pandas as pd

from lilyvae.data.schema import DEPTH_COL

#: The LAS null value the field's log viewers expect.
LAS_NULL = -999.25
#: Decimals of every value in the data section.
LAS_DECIMALS = 5
#: Values this large or larger are formatted one by one (their digits would not fit
#: the integer arithmetic below).
_LARGEST_FAST = 1e12
#: Values formatted per block.
_VALUES_AT_ONCE = 32_768


def mnemonic(group: str) -> str:
    return "P_" + re.sub(r"[^A-Z0-9]+", "_", group.upper()).strip("_")


def las_curves(result, rows: np.ndarray) -> list[tuple[str, np.ndarray, str, str]]:
    """(mnemonic, values, unit, description) of each curve, depth first."""
    wanted = [DEPTH_COL, "set_size", "novelty", "novel"]
    # Only these columns: a borehole's rows of the whole table would copy all of them.
    table = result.table[[c for c in wanted if c in result.table.columns]].iloc[rows]
    curves = [("DEPT", table[DEPTH_COL].to_numpy(np.float64), "M", "depth")]
    for j, group in enumerate(result.group_names):
        curves.append((mnemonic(group), result.group_proba[rows, j].astype(np.float64), "", group))
    for column, name, descr in (
        ("set_size", "SETSIZE", f"classes in the {result.level:g} prediction set"),
        ("novelty", "NOVELTY", "novelty score (1 = 99th percentile of held-out bins)"),
        ("novel", "NOVEL", "1 = flagged as unlike the training bins"),
    ):
        if column in table.columns:
            values = pd.to_numeric(table[column], errors="coerce").to_numpy(np.float64)
            curves.append((name, values, "", descr))
    return curves


def _printf_text(values: np.ndarray, n_cols: int, decimals: int) -> str:
    body = io.StringIO()
    frame = pd.DataFrame(values.reshape(-1, n_cols))
    frame.to_csv(body, sep=" ", header=False, index=False, float_format=f"%.{decimals}f")
    return body.getvalue()


def _five_digit_table() -> np.ndarray:
    """(100000,) uint64 whose first five bytes are the ASCII digits of 00000 .. 99999."""
    numbers = np.arange(100_000)
    table = np.zeros((100_000, 8), dtype=np.uint8)
    for place in range(5):
        table[:, place] = numbers // 10 ** (4 - place) % 10 + ord("0")
    return table.view(np.uint64).ravel()


def _digits(units: np.ndarray, count: int) -> np.ndarray:
    """(n, count) ASCII digits of non-negative integers, zero-padded on the left. Five
    digits at a time from a table: integer division is slow, a table look-up is not."""
    table = _FIVE_DIGITS
    # 32-bit division is several times faster than 64-bit; most values fit.
    rest = units.astype(np.uint32 if units.max() < 2**32 else np.int64)
    groups = -(-count // 5)
    packed = np.empty((len(units), groups), dtype=np.uint64)
    for g in range(groups - 1, -1, -1):
        packed[:, g] = table[rest % 100_000]
        rest = rest // 100_000
    digits = packed.view(np.uint8).reshape(len(units), groups, 8)[:, :, :5]
    return digits.reshape(len(units), groups * 5)[:, groups * 5 - count :]


def fixed_decimal_text(data: np.ndarray, decimals: int = LAS_DECIMALS) -> str:
    """Rows of ``data`` (n, m, finite floats) as text: each value as ``"%.{decimals}f"``,
    values separated by one space, each row ending in a newline."""
    data = np.asarray(data, dtype=np.float64)
    if data.ndim == 1:
        data = data[:, None]
    # A few thousand rows at a time: the dozen temporary arrays stay in the CPU's cache
    # (on a whole borehole at once, fetching them from memory was most of the time).
    rows = max(1, _VALUES_AT_ONCE // max(1, data.shape[1]))
    return "".join(
        _block_text(data[start : start + rows], decimals) for start in range(0, len(data), rows)
    )


def _block_text(data: np.ndarray, decimals: int) -> str:
    n_cols = data.shape[1]
    values = np.ascontiguousarray(data).ravel()
    if len(values) == 0:
        return ""
    magnitude = np.abs(values)
    if not magnitude.max() < _LARGEST_FAST:
        return _printf_text(values, n_cols, decimals)
    scaled = magnitude * 10**decimals
    units = np.rint(scaled).astype(np.int64)
    # rint (half to even) of the rounded product is printf's rounding of the exact
    # value, except within rounding error of a half: those few are taken from printf.
    fraction = scaled - np.floor(scaled)
    for i in np.flatnonzero(np.abs(fraction - 0.5) <= np.maximum(1e-9, scaled * 1e-14)):
        units[i] = int(f"{magnitude[i]:.{decimals}f}".replace(".", ""))
    # One fixed-width row of characters per value: [sign and whole digits, right-aligned]
    # "." [decimals] [separator]; then the padding left of each value is dropped.
    whole_digits = max(1, len(str(int(units.max()) // 10**decimals)))
    number = _digits(units, whole_digits + decimals)
    cells = np.empty((len(values), whole_digits + decimals + 3), dtype=np.uint8)
    cells[:, 1 : whole_digits + 1] = number[:, :whole_digits]
    cells[:, whole_digits + 1] = ord(".")
    cells[:, whole_digits + 2 : -1] = number[:, whole_digits:]
    cells[:, -1] = ord(" ")
    cells[n_cols - 1 :: n_cols, -1] = ord("\n")
    # Whole digits shown (at least the units digit): the rest is left padding.
    shown = np.ones(len(values), dtype=np.int64)
    for place in range(1, whole_digits):
        shown += units >= 10 ** (place + decimals)
    negative = np.signbit(values)
    # the first character kept: the sign, or the first digit shown
    first = whole_digits + 1 - shown - negative
    cells[np.flatnonzero(negative), first[negative]] = ord("-")
    keep = np.ones(cells.shape, dtype=bool)
    keep[:, : whole_digits + 1] = np.arange(whole_digits + 1)[None, :] >= first[:, None]
    return cells[keep].tobytes().decode("ascii")


def las_text(result, rows: np.ndarray, borehole: str) -> str:
    """A LAS 2.0 file of one borehole: depth, each group's probability, set size, novelty.

    lasio writes the header sections (from the first bin); the data section is
    :func:`fixed_decimal_text` (lasio formats each value in Python: minutes for a
    million bins)."""
    import lasio

    curves = las_curves(result, rows)
    las = lasio.LASFile()
    las.well["WELL"] = lasio.HeaderItem("WELL", value=borehole, descr="Borehole_ID")
    las.well["NULL"] = lasio.HeaderItem("NULL", value=LAS_NULL, descr="undefined")
    las.params.append(lasio.HeaderItem("PROB", value=result.label, descr="probabilities"))
    las.params.append(lasio.HeaderItem("MODEL", value=result.model, descr="lilyvae model"))
    if result.synthetic:
        las.params.append(
            lasio.HeaderItem("DATA", value="SYNTHETIC", descr="not real data; no real core")
        )
        las.other = "SYNTHETIC: predicted from synthetic data by lilyvae; not a real core."
    for mnemonic, values, unit, descr in curves:
        las.append_curve(mnemonic, values[:1], unit=unit, descr=descr)
    buffer = io.StringIO()
    las.write(buffer, version=2.0, fmt="%.5f")
    header, _, _ = buffer.getvalue().partition("\n~A")
    data = np.column_stack([values for _, values, _, _ in curves])
    data = np.where(np.isfinite(data), data, LAS_NULL)
    # lasio fills STRT/STOP from the one bin it was given: the whole borehole's range.
    depth = curves[0][1]
    header = re.sub(r"(STRT\.M\s+)\S+", lambda m: f"{m.group(1)}{depth[0]:.5f}", header)
    header = re.sub(r"(STOP\.M\s+)\S+", lambda m: f"{m.group(1)}{depth[-1]:.5f}", header)
    steps = np.diff(depth)
    step = float(steps[0]) if len(steps) and np.allclose(steps, steps[0]) else 0.0
    header = re.sub(r"(STEP\.M\s+)\S+", lambda m: f"{m.group(1)}{step:.5f}", header)
    names = " ".join(m for m, _, _, _ in curves)
    return f"{header}\n~A {names}\n{fixed_decimal_text(data)}"


_FIVE_DIGITS = _five_digit_table()
