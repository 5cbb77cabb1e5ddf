"""Small file helpers shared by every stage: atomic writes and fingerprints."""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


# mkstemp creates files readable by their owner only; a finished output gets the mode an
# ordinary open() would have given it (0666 less the umask), so reports, tables and
# checkpoints can be shared and served like any other file.
_FILE_MODE = 0o666 & ~_current_umask()


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; move it into place only on success.

    An interrupted or failing writer never leaves a half-written file under the
    final name: the temporary file is removed and the old file (if any) stays. A
    failing write (a full disk, a read-only folder) is a one-line error naming the
    final file, not the hidden temporary one.
    """
    with atomic_paths([path]) as (tmp,):
        yield tmp


@contextlib.contextmanager
def atomic_paths(paths) -> Iterator[list[Path]]:
    """Temporary paths for a set of files that land together or not at all.

    Each file is written in full beside its final name first; only when the block ends
    without an error are they moved into place, the last-named first (name a file that
    marks the others, like a SYNTHETIC sidecar, last: it lands before them). When a
    move fails (or is interrupted), the files of the set that landed and were new are
    removed again, so a new set is never left in part; a replaced file keeps its new
    version (the old one is gone), and the earlier-named ones are left as they were.
    """
    from lilyvae.errors import LilyVAEError

    finals = [Path(p) for p in paths]
    temps: list[Path] = []
    current = finals[0] if finals else None
    try:
        for current in finals:
            current.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(
                prefix=f".{current.name}.", suffix=".tmp", dir=current.parent
            )
            os.close(fd)
            temps.append(Path(tmp))
        current = None  # a writer's error names its file (below)
        yield list(temps)
        for i, tmp in enumerate(temps):
            current = finals[i]
            with open(tmp, "rb+") as fh:
                os.fsync(fh.fileno())
            os.chmod(tmp, _FILE_MODE)
        _move_all(finals, temps)
    except OSError as exc:
        if current is None:
            current = _file_of(exc, finals, temps)
        raise LilyVAEError(f"{current}: cannot write the file ({exc.strerror or exc})") from None
    finally:
        for tmp in temps:
            if tmp.exists():
                tmp.unlink()


def _file_of(exc: OSError, finals: list[Path], temps: list[Path]) -> str:
    """The final name of the file a writer's error is about (the error may name its
    temporary file, or none: then the set is named by its first file)."""
    for final, tmp in zip(finals, temps, strict=True):
        if exc.filename is not None and Path(exc.filename) == tmp:
            return str(final)
    if len(finals) == 1:
        return str(finals[0])
    return f"{finals[0]} (or another file of its set)"


def _move_all(finals: list[Path], temps: list[Path]) -> None:
    """Move the set into place, the last-named first; on failure, remove the new files
    that landed (the error names the file whose move failed)."""
    from lilyvae.errors import LilyVAEError

    existed = [final.exists() for final in finals]
    landed: list[int] = []
    try:
        for i in reversed(range(len(finals))):
            try:
                os.replace(temps[i], finals[i])
            except OSError as exc:
                raise LilyVAEError(
                    f"{finals[i]}: cannot write the file ({exc.strerror or exc})"
                ) from None
            landed.append(i)
    except BaseException:
        for i in landed:
            if not existed[i]:
                finals[i].unlink(missing_ok=True)
        raise


def write_atomic(path: str | os.PathLike, writer: Callable[[Path], Any]) -> Path:
    """Call ``writer(tmp_path)`` and move the result to ``path`` atomically."""
    with atomic_path(path) as tmp:
        writer(tmp)
    return Path(path)


def write_files_atomic(files: Mapping[str | os.PathLike, bytes]) -> list[Path]:
    """Write several files as one unit (a checkpoint, its history and its card).

    Every file is written in full to a temporary file beside it first; only when all of
    them are written are they moved into place, the last-named first. A failed write
    (a full disk) leaves the old files as they were, and a failed move leaves the
    earlier-named files unchanged: a checkpoint named first is never left new without
    its card.
    """
    with atomic_paths(list(files)) as temporary:
        for tmp, payload in zip(temporary, files.values(), strict=True):
            tmp.write_bytes(payload)
    return [Path(path) for path in files]


def write_text_atomic(path: str | os.PathLike, text: str) -> Path:
    return write_atomic(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def to_json(obj: Any) -> str:
    """Stable JSON text (sorted keys are not used: key order is meaningful to readers)."""
    return json.dumps(obj, indent=2, allow_nan=False) + "\n"


def write_json_atomic(path: str | os.PathLike, obj: Any) -> Path:
    return write_text_atomic(path, to_json(obj))


def check_output_path(path: str | os.PathLike) -> Path:
    """Refuse an output file name that cannot be written, before any work is done: one
    that is a directory, or below a path that is a file. Missing folders are fine (they
    are created on writing)."""
    from lilyvae.errors import LilyVAEError

    path = Path(path)
    if path.is_dir():
        raise LilyVAEError(f"{path}: is a directory, not a file name")
    parent = path.parent
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        raise LilyVAEError(f"{path}: {parent} is not a directory")
    _check_writable(path, parent)
    return path


def _check_writable(path: Path, folder: Path) -> None:
    """Refuse, before any work, a folder where no file can be created (a read-only
    mount, an immutable folder, no permission) and an existing file that cannot be
    replaced (immutable). The folder is probed by creating and removing an empty file:
    permission bits alone do not show a read-only mount or an immutable flag."""
    from lilyvae.errors import LilyVAEError

    try:
        fd, probe = tempfile.mkstemp(prefix=".lilyvae-probe-", dir=folder)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise LilyVAEError(f"{path}: cannot write in {folder} ({exc.strerror})") from None
    if path.is_file():
        try:
            # Opening for append writes nothing; an immutable file refuses it (EPERM),
            # as it would refuse being replaced. A file that is merely read-only (EACCES)
            # is still replaced atomically by a new one, as before.
            open(path, "ab").close()
        except PermissionError as exc:
            if exc.errno == errno.EPERM:
                raise LilyVAEError(f"{path}: cannot be replaced ({exc.strerror})") from None


def refuse_overwriting_inputs(
    output: str | os.PathLike, inputs: Mapping[str, str | os.PathLike | None]
) -> None:
    """Refuse an output that is one of the inputs (``{"--data": path, ...}``, by the flag
    that named it), before any work: writing it would destroy what it is computed from."""
    from lilyvae.errors import LilyVAEError

    out = Path(output).resolve()
    for flag, given in inputs.items():
        if given is not None and Path(given).resolve() == out:
            raise LilyVAEError(f"{output}: would overwrite the input {flag} {given}")


def read_json_file(
    path: str | os.PathLike,
    what: str,
    format_name: str | None = None,
    newest_version: int | None = None,
) -> dict:
    """A JSON object written by lilyvae: ``what`` names it in the one-line error
    (``"model card"``, ``"metrics file"``); ``format_name`` is its ``format`` field, and
    a ``format_version`` above ``newest_version`` (written by a newer lilyvae, whose
    fields this one would misread) is refused."""
    from lilyvae.errors import LilyVAEError

    path = Path(path)
    try:
        obj = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise LilyVAEError(f"{path}: not a readable {what} ({exc})") from None
    if not isinstance(obj, dict) or (format_name and obj.get("format") != format_name):
        raise LilyVAEError(f"{path}: not a lilyvae {what}")
    if newest_version is not None:
        version = obj.get("format_version", 1)
        if not isinstance(version, int) or isinstance(version, bool) or version < 1:
            raise LilyVAEError(f"{path}: {what} has an invalid format_version {version!r}")
        if version > newest_version:
            raise LilyVAEError(
                f"{path}: {what} format version {version} was written by a newer lilyvae "
                f"(this one reads up to version {newest_version}); upgrade lilyvae"
            )
    return obj


def sha256_file(path: str | os.PathLike, chunk_size: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(chunk_size), b""):
            digest.update(block)
    return digest.hexdigest()


def user_cache_dir() -> Path:
    """Where lilyvae keeps what it can rebuild at any time (``LILYVAE_CACHE_DIR``, else
    ``$XDG_CACHE_HOME/lilyvae``, else ``~/.cache/lilyvae``); nothing there is an input."""
    given = os.environ.get("LILYVAE_CACHE_DIR")
    if given:
        return Path(given)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "lilyvae"
