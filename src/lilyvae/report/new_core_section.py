"""The report's section on the demo's new core (``new_core/new_core.json``): a borehole no
model trained on, predicted as a user predicts a core just logged. Its down-core
prediction beside its description (the figure ``lilyvae predict --figure`` draws), the
calibration before and after on the check boreholes, the blind-well scores with the
prediction sets' coverage, and the novelty flags on the injected interval."""

from __future__ import annotations

from pathlib import Path

from lilyvae.report.html_blocks import escape, figure_html, table_html


def _value(entry) -> float | None:
    return entry.get("value") if isinstance(entry, dict) else entry


def _interval(entry) -> str:
    low_high = entry.get("interval_95") if isinstance(entry, dict) else None
    return "-" if not low_high else f"[{low_high[0]:.3f}, {low_high[1]:.3f}]"


def _calibration_rows(calibration: dict) -> list[list]:
    rows = []
    for level, name in (("class", "lithologies"), ("group", "14 groups")):
        check = calibration["check"][level]
        after = check["calibrated"]
        rows.append(
            [
                name,
                calibration["temperature"].get(level),
                check["raw"]["ece"],
                after.get("ece"),
                check["raw"]["log_loss"],
                after.get("log_loss"),
                after.get("coverage_90"),
                after.get("mean_set_size_90"),
            ]
        )
    return rows


def _blind_well_rows(scores: dict | None) -> list[list]:
    if not scores or not scores.get("scored_bins"):
        return []
    return [
        [key.replace("_", " "), _value(entry), _interval(entry)]
        for key, entry in scores.items()
        if isinstance(entry, dict) and "value" in entry
    ]


def _novelty_text(record: dict) -> str:
    novelty = record["novelty"]
    text = (
        f"{novelty['flagged_bins']:,} of the core's {novelty['bins']:,} bins are flagged as "
        "unlike the training bins (novelty score above its 99th percentile on in-distribution "
        "held-out boreholes)."
    )
    injected = novelty.get("injected_interval")
    if not injected:
        return text + " The core has no injected interval."
    inside, outside = novelty.get("flagged_inside"), novelty.get("flagged_outside")
    share = "n/a" if inside is None else f"{inside:.0%}"
    rest = "n/a" if outside is None else f"{outside:.1%}"
    return text + (
        f" The injected out-of-distribution interval ({escape(injected['lithology'])}, "
        f"{injected['top_m']:g}-{injected['base_m']:g} m, {injected['bins']} bins, with "
        f"measurements outside the training population): {share} of its bins flagged; "
        f"elsewhere in the core {rest}."
    )


def new_core_section(record: dict | None, folder: Path) -> list[str]:
    """The section's HTML parts; nothing when the run has no new core."""
    if not record:
        return []
    tag = "SYNTHETIC data: " if record.get("synthetic") else ""
    cal = record["calibration"]
    files = ", ".join(name for names in record["files"].values() for name in names)
    parts = [
        '<h2 id="new-core">The new core</h2>',
        f'<p class="note">{escape(tag)}Borehole <b>{escape(record["borehole"])}</b> was held '
        "out of training and out of the calibration, then predicted bin by bin by "
        f"<code>{escape(record['model'])}</code> ({escape(record['probabilities'])} "
        f"probabilities, {record['level']:.0%} prediction sets), as <code>lilyvae predict "
        "--las --intervals --figure</code> does for a core just logged. Files in "
        f"<code>new_core/</code>: {escape(files)}.</p>",
    ]
    for name in record["files"].get("figure", []):
        path = folder / name
        if path.is_file():
            parts.append(
                figure_html(
                    path,
                    f"{tag}down-core prediction of {record['borehole']}",
                    "The six measurements, the group probabilities as a stacked track, the "
                    "prediction set size and the novelty flags, beside the described lithology.",
                )
            )
    parts += [
        "<h3>Calibration before and after</h3>",
        table_html(
            [
                "level",
                "temperature",
                "ECE raw",
                "ECE calibrated",
                "log-loss raw",
                "log-loss calibrated",
                "90% set coverage",
                "90% set mean size",
            ],
            _calibration_rows(cal),
        ),
        f'<p class="note">{escape(tag)}Fitted on {len(cal["boreholes"]["fit"])} held-out '
        f"boreholes, measured on {len(cal['boreholes']['check'])} others it was not fitted on "
        "(the new core is in neither).</p>",
    ]
    blind = _blind_well_rows(record.get("blind_well"))
    if blind:
        parts += [
            "<h3>Blind-well test on the new core</h3>",
            table_html(["score", "value", "95% interval (blocks of bins)"], blind),
            f'<p class="note">{escape(tag)}The prediction scored against the core\'s '
            "described lithology, including the coverage of its prediction sets.</p>",
        ]
    parts += ["<h3>Novelty flags</h3>", f'<p class="note">{_novelty_text(record)}</p>']
    return parts
