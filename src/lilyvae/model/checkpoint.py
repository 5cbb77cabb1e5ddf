"""Checkpoints: the plain state dict, its training history, and its model card.

For ``--output models/unsup.pt`` a run writes three files, each atomically:

- ``models/unsup.pt``: ``torch.save(model.state_dict())``, as the specification saves
  it, so the reference's own loading code works on it;
- ``models/unsup.json``: the per-epoch history;
- ``models/unsup.meta.json``: the model card (kind, recipe and every hyper-parameter,
  input columns, scaler parameters, class names in index order, data fingerprint and
  row counts, seed, device, versions, wall time, and the sha256 of the ``.pt``).

``.pt`` plus ``.meta.json`` are enough to embed new data: no training table needed.
Checkpoints are always read with ``torch.load(weights_only=True)``; a file that is
not a plain state dict of tensors is refused, never unpickled.
"""

from __future__ import annotations

import hashlib
import io
import os
import pickle
import platform
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from lilyvae import __version__
from lilyvae.data.scaling import DistributionAwareScaler
from lilyvae.data.schema import FEATURE_COLS
from lilyvae.errors import LilyVAEError, first_line
from lilyvae.files import (
    check_output_path,
    read_json_file,
    refuse_overwriting_inputs,
    sha256_file,
    to_json,
    write_files_atomic,
)
from lilyvae.machine import cpu_environment
from lilyvae.model.architecture import SEMISUPERVISED, UNSUPERVISED, Architecture, has_head
from lilyvae.model.card import CARD_FORMAT, CARD_VERSION, ModelCard
from lilyvae.model.networks import VAE, SemiSupervisedVAE, build_model


def card_path(checkpoint: str | os.PathLike) -> Path:
    p = Path(checkpoint)
    return p.with_name(p.stem + ".meta.json")


def history_path(checkpoint: str | os.PathLike) -> Path:
    p = Path(checkpoint)
    return p.with_name(p.stem + ".json")


#: Endings of the files lilyvae writes beside a table (``<stem>.synthetic.json``, the
#: mark of SYNTHETIC data, and ``<stem>.manifest.json``): a checkpoint's history
#: ``<stem>.json`` must never be one of them.
SIDECAR_STEM_ENDINGS = (".synthetic", ".manifest", ".boreholes", ".meta")
#: Rows per pass of the networks when they are applied to data (embed, predict). Small
#: enough that each layer's output (8,192 x 64 float32: 2 MB) stays in the cache and in
#: the allocator's heap: at 65,536 rows every layer's 16 MB output was fresh memory from
#: the kernel, and its page faults took longer than the arithmetic (predict's networks,
#: 1,000,000 bins: 1.9-2.9 s at 65,536 rows, 1.1 s at 8,192; the same bits either way).
INFERENCE_BATCH_ROWS = 8192


def check_checkpoint_name(path: str | os.PathLike) -> Path:
    """Refuse a checkpoint name that must end in .pt, or whose history would take the
    name of a table's sidecar (``X.synthetic.pt`` would write ``X.synthetic.json`` over
    the mark of table ``X.csv``)."""
    path = Path(path)
    if path.suffix != ".pt":
        raise LilyVAEError(f"{path}: a checkpoint's name must end in .pt")
    ending = next((e for e in SIDECAR_STEM_ENDINGS if path.stem.endswith(e)), None)
    if ending:
        raise LilyVAEError(
            f"{path}: its history {history_path(path).name} would take the name of a "
            f"table's {ending[1:]} sidecar; choose a name whose stem does not end in {ending}"
        )
    return path


def check_checkpoint_output(output: str | os.PathLike, inputs: dict | None = None) -> Path:
    """Refuse, before any work, a checkpoint name whose ``.pt``, history or card cannot
    be written or would overwrite an input (``{"--data": path, ...}``): call it before
    training, as ``lilyvae train`` does, so that hours of work never end in a refusal."""
    output = check_checkpoint_name(output)
    for path in (output, history_path(output), card_path(output)):
        check_output_path(path)
        refuse_overwriting_inputs(path, inputs or {})
    return output


def environment() -> dict:
    """Versions and the processor: bytes are reproducible on the same machine only
    (:mod:`lilyvae.machine` says which layers choose code by CPU)."""
    import numba

    return {
        "lilyvae": __version__,
        "torch": torch.__version__,
        "numpy": np.__version__,
        "numba": numba.__version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        **cpu_environment(),
    }


# --- reading state dicts safely --------------------------------------------------------


def require_checkpoint_file(path: Path) -> None:
    """Refuse a checkpoint path that is a directory or does not exist, naming which."""
    if path.is_dir():
        raise LilyVAEError(f"{path}: is a directory, not a checkpoint file (.pt)")
    if not path.is_file():
        raise LilyVAEError(f"{path}: no such checkpoint file")


def read_state_dict(path: str | os.PathLike) -> dict[str, torch.Tensor]:
    """Load a ``.pt`` with ``weights_only=True`` and insist on a plain state dict."""
    path = Path(path)
    require_checkpoint_file(path)
    with open(path, "rb") as fh:
        magic = fh.read(4)
    # torch.save writes a zip archive; very old files are bare pickles (protocol >= 2).
    if not (magic.startswith(b"PK\x03\x04") or magic[:1] == b"\x80"):
        raise LilyVAEError(f"{path}: not a PyTorch checkpoint (unrecognised file format)")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError:
        raise LilyVAEError(
            f"{path}: refused: not a plain state dict (it holds objects that only an "
            "unsafe unpickle could load; checkpoints are read with weights_only=True)"
        ) from None
    except (RuntimeError, EOFError, zipfile.BadZipFile, OSError, ValueError) as exc:
        reason = first_line(exc)
        raise LilyVAEError(f"{path}: not a readable PyTorch checkpoint ({reason})") from None
    if not isinstance(state, dict) or not state:
        raise LilyVAEError(f"{path}: not a plain state dict (found {type(state).__name__})")
    bad = [k for k, v in state.items() if not isinstance(k, str) or not isinstance(v, torch.Tensor)]
    if bad:
        raise LilyVAEError(
            f"{path}: not a plain state dict (entry {bad[0]!r} is not a named tensor)"
        )
    return state


def kind_of_state_dict(state: dict[str, torch.Tensor]) -> str:
    return SEMISUPERVISED if any(k.startswith("classifier.") for k in state) else UNSUPERVISED


def architecture_of_state_dict(state: dict[str, torch.Tensor]) -> Architecture:
    """Infer input, latent, hidden sizes and classes from a state dict's shapes."""
    try:
        hidden = []
        i = 0
        while f"encoder.{i}.weight" in state:
            hidden.append(int(state[f"encoder.{i}.weight"].shape[0]))
            i += 3
        input_dim = int(state["fc_out.weight"].shape[0])
        n_classes = None
        if has_head(kind_of_state_dict(state)):
            last_head_layer = SemiSupervisedVAE.HEAD_LINEARS[-1]
            n_classes = int(state[f"{last_head_layer}.weight"].shape[0])
        arch = Architecture(
            input_dim=input_dim,
            latent_dim=int(state["fc_mu.weight"].shape[0]),
            hidden_dims=tuple(hidden),
            n_classes=n_classes,
            # A 'mask' model's encoder reads an indicator beside each input.
            missing_indicators=int(state["encoder.0.weight"].shape[1]) == 2 * input_dim,
        )
    except (KeyError, IndexError):
        raise LilyVAEError(
            "not a lilyvae/reference VAE state dict (missing encoder layers)"
        ) from None
    return arch


def check_state_dict(state: dict, model: VAE, path) -> None:
    """Compare keys and shapes; raise one line naming the first difference."""
    expected = model.state_dict()
    got_kind = kind_of_state_dict(state)
    if got_kind != model.kind:
        raise LilyVAEError(
            f"{path}: holds a {got_kind} model, but a {model.kind} model was expected"
        )
    missing = [k for k in expected if k not in state]
    unexpected = [k for k in state if k not in expected]
    if missing or unexpected:
        what = f"missing {missing[0]!r}" if missing else f"unexpected {unexpected[0]!r}"
        raise LilyVAEError(f"{path}: parameters do not match the model ({what})")
    for key, value in expected.items():
        if tuple(state[key].shape) != tuple(value.shape):
            raise LilyVAEError(
                f"{path}: shape of {key} is {tuple(state[key].shape)}, "
                f"the model expects {tuple(value.shape)}"
            )


def check_finite_state(state: dict[str, torch.Tensor], path) -> None:
    """Refuse weights that would make every embedding NaN: a non-finite value, or a
    negative batch-norm variance (its square root is NaN)."""
    for key, value in state.items():
        if value.is_floating_point() and not bool(torch.isfinite(value).all()):
            raise LilyVAEError(
                f"{path}: {key} holds NaN or infinite values (the checkpoint is damaged, or "
                "the training that wrote it diverged)"
            )
        if key.endswith(".running_var") and bool((value < 0).any()):
            raise LilyVAEError(
                f"{path}: {key} holds negative variances (the checkpoint is damaged)"
            )


def load_state_dict_into(model: VAE, path: str | os.PathLike) -> VAE:
    """Fill ``model`` from a ``.pt`` (for example the reference's ``unsup.pt``), checked."""
    state = read_state_dict(path)
    check_state_dict(state, model, path)
    check_finite_state(state, path)
    model.load_state_dict(state)
    return model.eval()


def state_dict_bytes(module: torch.nn.Module) -> bytes:
    """``torch.save(module.state_dict())`` as bytes.

    Saved through a buffer: torch.save names the archive after the file it writes,
    and a temporary file name would make identical models differ byte for byte.
    """
    buffer = io.BytesIO()
    torch.save(module.state_dict(), buffer)
    return buffer.getvalue()


# --- the user-facing trained model ------------------------------------------------------


def _as_features(data) -> np.ndarray:
    """Raw inputs (n, 6) from a DataFrame with the input columns, or an array."""
    if isinstance(data, pd.DataFrame):
        missing = [c for c in FEATURE_COLS if c not in data.columns]
        if missing:
            raise LilyVAEError(f"data: missing input column(s) {', '.join(map(repr, missing))}")
        data = data[list(FEATURE_COLS)].to_numpy(np.float64)
    return np.asarray(data, dtype=np.float64)


@dataclass
class TrainedModel:
    """A network with everything needed to use it: scaler, class names, its card.

    ``embed``, ``reconstruct`` and ``predict_proba`` take raw measurements (a
    DataFrame with the input columns, or an (n, 6) array in FEATURE_COLS order). A
    model trained with ``missing="mask"`` also takes rows with missing inputs (NaN).
    """

    module: VAE
    scaler: DistributionAwareScaler
    card: ModelCard
    history: dict | None = None

    def __repr__(self) -> str:
        arch = self.card.architecture
        sizes = "-".join(str(s) for s in (arch.input_dim, *arch.hidden_dims, arch.latent_dim))
        where = self.card.checkpoint_file or "not saved"
        return f"TrainedModel({self.kind}, {self.card.recipe}, {sizes}, {where})"

    @property
    def class_names(self) -> tuple[str, ...]:
        return self.card.class_names

    @property
    def kind(self) -> str:
        return self.module.kind

    @property
    def has_head(self) -> bool:
        """Whether the model has a lithology head (``predict_proba``)."""
        return self.module.has_head

    @property
    def missing(self) -> str:
        """How the model treats rows with a missing input: ``"mask"`` (it reads them,
        with missing-value indicators) or ``"drop"`` (it reads complete rows only)."""
        return "mask" if self.module.missing_indicators else "drop"

    def _scaled(self, data) -> torch.Tensor:
        features = _as_features(data)
        masks = self.missing == "mask"
        if not masks and np.isnan(features).any():
            n = int(np.isnan(features).any(axis=1).sum())
            raise LilyVAEError(
                f"data: {n:,} of {len(features):,} rows have a missing input, and this model "
                "was trained with missing='drop': it reads complete rows only "
                "(lilyvae.model.embeddings.embed_frame leaves the others NaN)"
            )
        scaled = self.scaler.transform(features, allow_missing=masks)
        return torch.as_tensor(scaled, dtype=torch.float32)

    @torch.no_grad()
    def _batched(self, fn, data, batch_size: int = INFERENCE_BATCH_ROWS) -> np.ndarray:
        self.module.eval()
        x = self._scaled(data)
        # No rows still give an array of the output's width (0 rows pass every layer).
        outs = [fn(x[i : i + batch_size]) for i in range(0, max(x.shape[0], 1), batch_size)]
        return torch.cat(outs).numpy()

    def embed(self, data, batch_size: int = INFERENCE_BATCH_ROWS) -> np.ndarray:
        """The posterior means (n, latent_dim): the embeddings."""
        return self._batched(self.module.get_embeddings, data, batch_size)

    def posterior(
        self, data, batch_size: int = INFERENCE_BATCH_ROWS
    ) -> tuple[np.ndarray, np.ndarray]:
        """The posterior's mean and variance (each (n, latent_dim), float64) of each row.

        A ``missing="mask"`` model reads rows with missing inputs (NaN) too, through its
        missing-value indicators, as :meth:`embed` does."""
        both = self._batched(lambda x: torch.cat(self.module.encode(x), dim=1), data, batch_size)
        both = both.astype(np.float64)
        latent = self.module.latent_dim
        return both[:, :latent], np.exp(both[:, latent:])

    @torch.no_grad()
    def sample(self, n: int, seed: int = 0) -> np.ndarray:
        """``n`` draws from the N(0, I) prior, decoded and unscaled: raw measurements
        (n, 6) as the model imagines them, reproducible by ``seed``."""
        self.module.eval()
        gen = torch.Generator().manual_seed(seed)
        z = torch.randn(n, self.module.latent_dim, generator=gen)
        return self.scaler.inverse_transform(self.module.decode(z).numpy().astype(np.float64))

    def reconstruct(self, data, batch_size: int = INFERENCE_BATCH_ROWS) -> np.ndarray:
        """Decode the posterior mean and undo the scaling: raw units, deterministic."""
        scaled = self._batched(
            lambda x: self.module.decode(self.module.encode(x)[0]), data, batch_size
        )
        return self.scaler.inverse_transform(scaled)

    def predict_proba(self, data, batch_size: int = INFERENCE_BATCH_ROWS) -> np.ndarray:
        if not self.has_head:
            raise LilyVAEError("only the semi-supervised model has a lithology head")
        logits = self._batched(self.module.classify, data, batch_size)
        return torch.softmax(torch.as_tensor(logits), dim=1).numpy()

    def predict(self, data, batch_size: int = INFERENCE_BATCH_ROWS) -> np.ndarray:
        """Most likely lithology name per row (semi-supervised model)."""
        idx = self.predict_proba(data, batch_size).argmax(axis=1)
        return np.asarray(self.class_names, dtype=object)[idx]

    # -- files ------------------------------------------------------------------------
    def save(self, path: str | os.PathLike) -> dict[str, Path]:
        """Write ``.pt``, ``.json`` (history) and ``.meta.json`` (card) as one unit.

        All three are serialised before anything is written, then written together
        (:func:`~lilyvae.files.write_files_atomic`): a failed write (a full disk, a
        read-only folder) leaves no new ``.pt`` without its card. The card saved names
        these files and the ``.pt``'s sha256; ``self.card`` becomes that card (a new
        object: cards are never changed in place).
        """
        path = check_checkpoint_name(path)
        payload = state_dict_bytes(self.module)
        history = history_path(path).name if self.history is not None else None
        card = self.card.with_files(path.name, history, hashlib.sha256(payload).hexdigest())
        files = {"checkpoint": (path, payload)}
        try:
            if self.history is not None:
                files["history"] = (history_path(path), to_json(self.history).encode())
            files["card"] = (card_path(path), to_json(card.to_dict()).encode())
        except ValueError as exc:  # NaN or infinity, which JSON cannot hold
            raise LilyVAEError(f"{path}: the model card cannot be written ({exc})") from None
        # A failed write is one line naming the file (lilyvae.files).
        write_files_atomic(dict(files.values()))
        self.card = card
        return {what: where for what, (where, _) in files.items()}

    @classmethod
    def load(cls, path: str | os.PathLike) -> TrainedModel:
        return load_model(path)


def read_card(path: str | os.PathLike) -> ModelCard:
    """The validated model card beside a checkpoint."""
    meta = card_path(path)
    if not meta.is_file():
        raise LilyVAEError(
            f"{path}: model card {meta.name} is missing (it holds the scaler and class names "
            "needed to use the checkpoint)"
        )
    return ModelCard.from_dict(
        read_json_file(meta, "model card", CARD_FORMAT, CARD_VERSION), str(meta)
    )


def load_model(path: str | os.PathLike) -> TrainedModel:
    """Rebuild a trained model from its ``.pt`` and ``.meta.json``; checks they match."""
    path = Path(path)
    require_checkpoint_file(path)  # the missing file first, then its card
    card = read_card(path)  # validated first: no allocation from an absurd card
    meta = card_path(path)
    state = read_state_dict(path)
    scaler = DistributionAwareScaler.from_dict(card.scaler, source=str(meta))
    if card.checkpoint_sha256 and card.checkpoint_sha256 != sha256_file(path):
        raise LilyVAEError(
            f"{path}: does not match its model card {meta.name} (sha256 differs: the "
            "checkpoint was replaced or the card belongs to another run)"
        )
    try:
        module = build_model(card.kind, card.architecture)
    except (TypeError, ValueError) as exc:
        raise LilyVAEError(f"{meta}: invalid model section ({exc})") from None
    check_state_dict(state, module, path)
    check_finite_state(state, path)
    module.load_state_dict(state)
    history = None
    hist_file = path.with_name(card.history_file or history_path(path).name)
    if hist_file.is_file():
        try:
            history = read_json_file(hist_file, "training history")
        except LilyVAEError:
            history = None  # the history is informative; a damaged one does not stop use
    return TrainedModel(module.eval(), scaler, card, history)
