"""The run directory of an ensemble: its manifest, its members on disk, and resuming.

A run is identified by the settings that decide its members (:func:`run_identity`);
``run.json`` holds them with the number of members. Re-running the same command finds
the finished members (checkpoint and card present, matching) and the failed ones; a
directory holding a different run is refused, unless ``resume`` adopts it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from lilyvae.data.provenance import UNKNOWN, Provenance
from lilyvae.data.splits import BoreholeSplit
from lilyvae.data.tables import TrainingData
from lilyvae.errors import LilyVAEError
from lilyvae.files import read_json_file, sha256_file, write_json_atomic
from lilyvae.model.checkpoint import CARD_FORMAT, CARD_VERSION, card_path, history_path
from lilyvae.run_folder import (
    ENSEMBLE_FAILURES,
    ENSEMBLE_MANIFEST,
    ENSEMBLE_MEMBERS_DIR,
    ENSEMBLE_RUN_FORMAT,
    ENSEMBLE_RUN_VERSION,
)
from lilyvae.runs.ensemble.planning import Member
from lilyvae.runs.ensemble.scoring import MemberEvaluation
from lilyvae.training.config import TrainingConfig, config_from_dict

RUN_FORMAT = ENSEMBLE_RUN_FORMAT
RUN_VERSION = ENSEMBLE_RUN_VERSION
MEMBERS_DIR = ENSEMBLE_MEMBERS_DIR


def data_fingerprint(data: TrainingData) -> str:
    """sha256 of the usable rows: features, labels, class names and boreholes."""
    digest = hashlib.sha256()
    digest.update(np.ascontiguousarray(data.features, dtype=np.float64).tobytes())
    digest.update(np.ascontiguousarray(data.labels, dtype=np.int64).tobytes())
    digest.update("\x1f".join(data.class_names).encode())
    if data.boreholes is not None:
        digest.update("\x1f".join(map(str, data.boreholes)).encode())
    return digest.hexdigest()


def run_identity(
    kind: str,
    config: TrainingConfig,
    data: TrainingData,
    split: BoreholeSplit | None,
    resample: str,
    evaluation: MemberEvaluation | None,
    extra: dict,
) -> dict:
    """Everything that decides a run's members, except their number (``extra``: a
    sweep's grid)."""
    return {
        "kind": kind,
        "config": config.to_dict(),
        "resample": resample,
        "data": {"fingerprint": data_fingerprint(data), "rows_used": data.n_rows},
        "split": None if split is None else split.to_dict(),
        "evaluation": None if evaluation is None or split is None else evaluation.to_dict(),
    } | extra


def as_written_now(identity: dict) -> dict:
    """A stored identity as this code would write it: settings added to the training
    configuration or to the members' scoring since the run was written take their
    defaults (a setting is only ever added with a default that keeps what older code
    did, or, for scoring, adds a score), so a run folder written by older code is still
    the same run when the same command is given again. Unreadable parts are kept as
    they are (the comparison then finds them different)."""
    current = dict(identity)
    try:
        current["config"] = config_from_dict(identity["config"]).to_dict()
    except (LilyVAEError, KeyError, TypeError):
        pass
    ev = identity.get("evaluation")
    if isinstance(ev, dict):
        try:
            current["evaluation"] = MemberEvaluation(**ev).to_dict()
        except TypeError:  # a setting this code does not know
            pass
    return current


def settings_from_identity(identity: dict):
    """The configuration, split, resample and evaluation a stored identity records."""
    config = config_from_dict(identity["config"])
    split = BoreholeSplit.from_dict(identity.get("split"))
    ev = identity.get("evaluation")
    evaluation = MemberEvaluation(**ev) if ev else None
    return config, split, identity["resample"], evaluation


def _canonical(obj) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"))


@dataclass
class EnsembleRun:
    """The settings that decide a run's members (its identity) and where it lives."""

    kind: str  # "bootstrap" or "sweep"
    identity: dict  # everything that decides the members, except their number
    count: dict  # {"n": N} or {"seeds": S}
    output_dir: Path
    # Whether the data are SYNTHETIC: recorded in run.json, not part of the identity
    # (the data's fingerprint is), so runs written before it was recorded still resume.
    origin: Provenance = field(default=UNKNOWN, compare=False)
    # Whether the directory held another run that no member had finished, which this
    # one replaces (a run that failed before training, on data since corrected).
    replaces_unstarted: bool = field(default=False, compare=False)

    @property
    def run_id(self) -> str:
        return hashlib.sha256(_canonical(self.identity).encode()).hexdigest()[:16]

    def manifest(self) -> dict:
        return {
            "format": RUN_FORMAT,
            "format_version": RUN_VERSION,
            "kind": self.kind,
            "run_id": self.run_id,
            **self.count,
            **self.origin.to_dict(),
            "identity": self.identity,
        }

    def create(self) -> None:
        """The directory and its manifest, written before any member trains."""
        (self.output_dir / MEMBERS_DIR).mkdir(parents=True, exist_ok=True)
        write_json_atomic(self.output_dir / ENSEMBLE_MANIFEST, self.manifest())

    def member_path(self, key: str) -> Path:
        return self.output_dir / MEMBERS_DIR / f"{key}.pt"


# --- a directory that already holds a run ----------------------------------------------------


def _differences(stored: dict, ours: dict, prefix: str = "") -> list[str]:
    out = []
    for key in sorted(set(stored) | set(ours)):
        a, b = stored.get(key), ours.get(key)
        if isinstance(a, dict) and isinstance(b, dict):
            out.extend(_differences(a, b, f"{prefix}{key}."))
        elif a != b:
            out.append(f"{prefix}{key}: {_short(a)} there, {_short(b)} here")
    return out


def _short(value) -> str:
    text = json.dumps(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _check_fresh_directory(run: EnsembleRun, resume: bool) -> None:
    """A directory without a manifest: missing or empty, and not asked to resume."""
    out = run.output_dir
    if resume:
        raise LilyVAEError(f"{out}: --resume, but the directory holds no run (no run.json)")
    if out.is_dir() and any(out.iterdir()):
        raise LilyVAEError(
            f"{out}: not empty and not a lilyvae {run.kind} run (no run.json); "
            "choose a new --output-dir"
        )


def _adopt(run: EnsembleRun, stored: dict) -> EnsembleRun:
    """The stored run, to continue with its own settings (``--resume``); our count
    where we give one (a larger N or more seeds), else the stored count."""
    ours_data, theirs_data = _fingerprint(run.manifest()), _fingerprint(stored)
    if ours_data != theirs_data:
        raise LilyVAEError(
            f"{run.output_dir}: --resume, but the run was trained on other data (fingerprint "
            f"{str(theirs_data)[:12]}, this table {str(ours_data)[:12]})"
        )
    count = {k: run.count[k] if run.count.get(k) is not None else stored[k] for k in run.count}
    return EnsembleRun(run.kind, stored["identity"], count, run.output_dir, run.origin)


def has_finished_member(out: Path) -> bool:
    """Whether a member of the run in ``out`` finished: a member's checkpoint is only
    written, with its card, when it has."""
    return any((out / MEMBERS_DIR).glob("*.pt"))


def _same_run(stored: dict, run: EnsembleRun) -> bool:
    return (
        stored.get("kind") == run.kind
        and as_written_now(stored.get("identity") or {}) == run.identity
        and all(stored.get(k) == v for k, v in run.count.items())
    )


def _fingerprint(manifest: dict):
    return ((manifest.get("identity") or {}).get("data") or {}).get("fingerprint")


def open_run_dir(run: EnsembleRun, resume: bool) -> tuple[EnsembleRun, bool]:
    """Check the directory against the run; returns the run to carry on (the stored one
    when ``resume`` adopts it) and whether the stored settings replaced ours."""
    out = run.output_dir
    manifest_path = out / ENSEMBLE_MANIFEST
    if out.exists() and not out.is_dir():
        raise LilyVAEError(f"{out}: is not a directory")
    if not manifest_path.is_file():
        _check_fresh_directory(run, resume)
        return run, False
    stored = read_json_file(manifest_path, "ensemble run manifest", RUN_FORMAT, RUN_VERSION)
    if not has_finished_member(out) and not _same_run(stored, run):
        if not resume:
            run.replaces_unstarted = True
            return run, False
        if _fingerprint(stored) != _fingerprint(run.manifest()):
            raise LilyVAEError(
                f"{out}: --resume, but no member of the run there finished and it was set up "
                "on other data; re-run without --resume to replace it with this run"
            )
    if stored.get("kind") != run.kind:
        raise LilyVAEError(
            f"{out}: holds a {stored.get('kind')} run, not a {run.kind} run; "
            "choose a new --output-dir"
        )
    if _same_run(stored, run):
        # The stored identity as written: the run's id, which its members' cards and
        # files record, is the hash of it.
        return EnsembleRun(run.kind, stored["identity"], run.count, out, run.origin), False
    current = as_written_now(stored.get("identity") or {})
    same_identity = current == run.identity
    if not resume:
        diffs = _differences(
            current | {k: stored.get(k) for k in run.count}, run.identity | run.count
        )
        raise LilyVAEError(
            f"{out}: holds a different {run.kind} run ({'; '.join(diffs[:3])}); re-run with "
            "--resume to continue that run with its own settings, or use a new --output-dir"
        )
    return _adopt(run, stored), not same_identity


# --- members on disk -------------------------------------------------------------------------


def finished_card(run: EnsembleRun, key: str) -> dict | None:
    """The card of a member whose files are complete and belong to this run, else None
    (the member is trained again)."""
    pt = run.member_path(key)
    meta, hist = card_path(pt), history_path(pt)
    if not (pt.is_file() and meta.is_file() and hist.is_file()):
        return None
    try:
        card = read_json_file(meta, "model card", CARD_FORMAT, CARD_VERSION)
        info = card["ensemble"]
        ok = (
            info["run"] == run.run_id
            and info["member"] == key
            and card["checkpoint"]["sha256"] == sha256_file(pt)
        )
    except (LilyVAEError, OSError, KeyError, TypeError):
        return None
    return card if ok else None


def _read_own_file(run: EnsembleRun, name: str) -> dict | None:
    """A JSON file of the directory that this run wrote, or None when it is missing,
    unreadable or another run's (what it records is then found again)."""
    try:
        data = read_json_file(run.output_dir / name, name)
    except LilyVAEError:
        return None
    return data if data.get("run_id") == run.run_id else None


@dataclass
class RunRecord:
    """What the run directory holds so far, kept up to date as packs finish."""

    cards: dict[str, dict | None]  # member key -> its card, None until it has finished
    failures: dict[str, dict]  # member key -> {"seed", "reason"} of its last failure
    baseline: dict | None  # the scaled inputs' metrics (scored once per run)
    trained: int = 0  # members trained by this call

    def failed(self, member: Member, reason: str) -> None:
        self.failures[member.key] = {"seed": member.seed, "reason": reason}

    def finished(self, member: Member, card: dict) -> None:
        self.cards[member.key] = card
        self.failures.pop(member.key, None)
        self.trained += 1

    def todo(self, members: list[Member]) -> list[Member]:
        return [m for m in members if self.cards[m.key] is None]

    def save(self, run: EnsembleRun) -> None:
        """``failures.json`` (removed when none is left) and ``baseline.json``."""
        path = run.output_dir / ENSEMBLE_FAILURES
        if self.failures:
            write_json_atomic(path, {"run_id": run.run_id, "members": self.failures})
        elif path.exists():
            path.unlink()
        if self.baseline:
            write_json_atomic(
                run.output_dir / "baseline.json", {"run_id": run.run_id, "metrics": self.baseline}
            )


def read_record(run: EnsembleRun, members: list[Member]) -> RunRecord:
    """The members finished already, the failures of the others, the baseline."""
    cards = {m.key: finished_card(run, m.key) for m in members}
    unfinished = {key for key, card in cards.items() if card is None}
    failures = (_read_own_file(run, ENSEMBLE_FAILURES) or {}).get("members", {})
    baseline = (_read_own_file(run, "baseline.json") or {}).get("metrics")
    return RunRecord(cards, {k: v for k, v in failures.items() if k in unfinished}, baseline)
