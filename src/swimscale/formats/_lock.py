"""One run per results folder: a lock file in ``results_dir`` held from a run's start to its end.

Snakemake locks its working directory (``.snakemake/locks``), not the results folder, and the config
accepts an absolute or ``../`` ``results_dir``: two runs started from two working directories on the
same results folder would both run, each deleting what the other was writing. So the workflow takes
:func:`take_lock` in its ``onstart`` hook and gives it back with :func:`release_lock` in ``onsuccess``
and ``onerror`` (dry runs run no hook, so they take no lock).

The lock is created with ``O_CREAT | O_EXCL`` (atomic on a local file system and on NFS v3+), and
holds the host, process id, working directory and start time of its holder as JSON. A second run is
refused with a line naming the holder. A lock whose process is gone on this host is stale (a run
killed with SIGKILL, a node lost): it is reported, not taken over silently, with the command that
clears it. A lock held from another host cannot be checked from here: it is refused the same way.
Standard library only.
"""

from __future__ import annotations

import json
import os
import socket
import time
from pathlib import Path

from swimscale._types import StrPath
from swimscale.errors import InputError


class LockHeld(InputError):
    """The results folder is held by another run (or by a stale lock); the message says which."""


def _holder() -> dict:
    return {"host": socket.gethostname(), "pid": os.getpid(), "cwd": os.getcwd(),
            "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's live process
        return True
    return True


def _read(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _refusal(path: Path, holder: dict) -> LockHeld:
    who = (f"run of pid {holder.get('pid', '?')} on host {holder.get('host', '?')}, started "
           f"{holder.get('started', '?')} in {holder.get('cwd', '?')}")
    if holder.get("host") == socket.gethostname() and isinstance(holder.get("pid"), int) \
            and not _alive(holder["pid"]):
        return LockHeld(f"{path}: a stale lock of a {who}, which is no longer running; if no other run uses "
                        f"this results folder, clear it with: rm '{path}'")
    return LockHeld(f"{path}: this results folder is in use by the {who}; wait for it to end "
                    "(one run per results folder; see docs/cluster.md)")


def take_lock(path: StrPath) -> dict:
    """Takes the lock at `path` for this process (its folder is made); returns what it wrote. Raises
    :class:`LockHeld` naming the holder when another run holds it, or when a stale lock is left."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    holder = _holder()
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        raise _refusal(path, _read(path)) from None
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(json.dumps(holder) + "\n")
    return holder


def release_lock(path: StrPath) -> bool:
    """Removes the lock at `path` if this process holds it (same host and pid); returns whether it did.
    A run refused at the start (whose ``onerror`` runs too) leaves the holder's lock in place."""
    path = Path(path)
    holder = _read(path)
    if holder.get("host") == socket.gethostname() and holder.get("pid") == os.getpid():
        path.unlink(missing_ok=True)
        return True
    return False
