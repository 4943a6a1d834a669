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

A write that fails for want of room or rights (``ENOSPC``, ``EDQUOT``, ``EROFS``, or torch's
"file write failed" on a full disk) becomes one :class:`WriteFailed` line: the file, the free space of
its file system, and what to do -- after the partial file is removed.
"""

from __future__ import annotations

import errno
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from swimscale._types import StrPath

PARTIAL_SUFFIX = ".partial"
# The errors of a write that no retry in place will fix: the disk, the quota, a read-only file system.
NO_ROOM = {errno.ENOSPC: "no space left on the device", errno.EDQUOT: "disk quota exceeded",
           errno.EROFS: "read-only file system"}
# What libraries that write through C++ streams (torch.save) say instead of an OSError.
_STREAM_FAILURES = ("file write failed", "iostream")


class WriteFailed(OSError):
    """A file could not be written for want of room or rights; the message is the one line to show."""


def _free_space(folder: Path) -> str:
    try:
        return f"{shutil.disk_usage(folder).free / 2**20:,.1f} MiB free"
    except OSError:
        return "free space unknown"


def write_failure(target: Path, error: BaseException) -> WriteFailed | None:
    """The :class:`WriteFailed` that `error`, raised while writing `target`, stands for, or None when it
    is another error (which then propagates as it is)."""
    if isinstance(error, WriteFailed):
        return None
    if isinstance(error, OSError) and error.errno in NO_ROOM:
        reason = NO_ROOM[error.errno]
    elif isinstance(error, RuntimeError) and any(s in str(error) for s in _STREAM_FAILURES):
        reason = "the write failed (a full disk?)"
    else:
        return None
    failure = WriteFailed(f"{target}: cannot write it: {reason} ({_free_space(target.parent)} on its file system); "
                          "free space there or point results_dir at a larger file system, then run again "
                          "(the partial file was removed; finished files are kept)")
    failure.errno = getattr(error, "errno", None) or errno.EIO
    return failure


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
    except (OSError, RuntimeError) as error:
        failure = write_failure(target, error)
        if failure is None:
            raise
        raise failure from error
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
