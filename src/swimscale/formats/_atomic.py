"""The one way swimscale replaces a file: write it aside, then rename it into place.

A reader must never see a file cut short -- a run file with the last queries missing parses and
scores lower, a checkpoint cut short cannot be loaded, a pool cut short trains on less. So a file is
written under another name in the same folder, ``<name>.partial`` (:func:`partial_path`), flushed to
disk (``fsync``), and renamed over the target with ``os.replace``, which is atomic on one file system:
a reader sees the old file or the new one, never a mix. The folder is then synced so that the rename
itself survives a crash.

When the writer raises, the partial file is removed and the target is left as it was (the old file,
or none). A process killed while writing (SIGKILL, a node lost) leaves only the partial file: the
next write to the same target overwrites and renames it, and a reader that cares (the checkpoints)
removes it with ``partial_path(path).unlink(missing_ok=True)``. The name is fixed, not random, for
that reason; two processes must not write the same target at once (Snakemake never schedules that).

Two forms: :func:`atomic_path` yields the path to write (for writers that take a path:
``torch.save(obj, partial)``), :func:`atomic_open` an open file (text, or binary with ``"wb"``: give
``np.save`` the open file, since given a path it appends ``.npy`` to a name that lacks it).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from swimscale._types import StrPath

PARTIAL_SUFFIX = ".partial"


def partial_path(path: StrPath) -> Path:
    """Where :func:`atomic_path` writes `path` before renaming it into place."""
    path = Path(path)
    return path.with_name(path.name + PARTIAL_SUFFIX)


def _fsync(path: Path) -> None:
    """Flushes a file's (or a folder's) data to disk."""
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


@contextmanager
def atomic_path(path: StrPath) -> Iterator[Path]:
    """Yields the partial path to write `path` to; when the block ends without an exception, that file
    is synced and renamed over `path`. When the block raises, the partial file is removed and `path`
    is untouched. The folder must exist."""
    target = Path(path)
    partial = partial_path(target)
    try:
        yield partial
        _fsync(partial)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    try:
        _fsync(target.parent)
    except OSError:  # some file systems (FUSE, a few network ones) refuse to sync a folder: the file is in place
        pass


@contextmanager
def atomic_open(path: StrPath, mode: str = "w", encoding: str = "utf-8") -> Iterator[IO]:
    """An open file (`mode` ``"w"``: text in `encoding`, or ``"wb"``: bytes) whose contents replace
    `path` when the block ends without an exception (:func:`atomic_path`)."""
    if mode not in ("w", "wb"):
        raise ValueError(f"atomic_open writes a whole file: mode 'w' or 'wb', not {mode!r}")
    with atomic_path(path) as partial:
        with open(partial, mode, encoding=None if mode == "wb" else encoding) as handle:
            yield handle


def write_text_atomic(path: StrPath, text: str, encoding: str = "utf-8") -> None:
    """`path.write_text(text)`, atomically."""
    with atomic_open(path, "w", encoding) as handle:
        handle.write(text)
