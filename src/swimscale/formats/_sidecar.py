"""Sidecars: what a derived file was when its job wrote it, checked by every job that reads it.

A job of the workflow that writes a file also writes its sidecar ``<file>.sidecar.json`` beside it
(:func:`write_sidecar`): the file's SHA-256, its byte size and, where the format has one, its count
(:func:`count_of`: the non-blank lines of a JSON-lines, TSV, TREC or text file; the rows of a ``.npy``
array). A job that reads a derived file checks it first (:func:`check_sidecar`): size and count always
(a ``stat`` and, for text, one pass), the SHA-256 when the file is under :data:`SHA_LIMIT` or with
``verify: full``. A file cut short, edited in place, emptied or with records added or lost then stops
the job that would have read it, with one line naming the file, what the sidecar says, what was found,
and the command that rebuilds it -- instead of a result table computed from it.

The sidecar is written last, after the file is in place, so a job killed between the two leaves a file
without a sidecar: the reader refuses it the same way (Snakemake reruns the job of an incomplete output
anyway). Standard library only.
"""

from __future__ import annotations

import ast
import hashlib
import json
import os
from pathlib import Path

from swimscale._types import StrPath
from swimscale.errors import InputError
from swimscale.formats._atomic import PARTIAL_SUFFIX, write_text_atomic

SIDECAR_SUFFIX = ".sidecar.json"
SHA_LIMIT = 1 << 30  # 1 GiB: above it, the SHA-256 is checked only with `verify: full`
VERIFY_MODES = ("auto", "full")
_LINE_SUFFIXES = (".jsonl", ".tsv", ".txt", ".trec")
_CHUNK = 1 << 20


class SidecarMismatch(InputError):
    """A derived file differs from its sidecar (or has none): the message is the one line to show."""


def sidecar_path(path: StrPath) -> Path:
    """Where the sidecar of `path` is kept: ``<path>.sidecar.json`` beside it."""
    path = Path(path)
    return path.with_name(path.name + SIDECAR_SUFFIX)


def is_sidecar(path: StrPath) -> bool:
    """Whether `path` is a sidecar, a partial file or Snakemake's own mark in a directory output
    (``.snakemake_timestamp``): what :func:`files_of` leaves out."""
    return str(path).endswith((SIDECAR_SUFFIX, PARTIAL_SUFFIX)) or Path(path).name.startswith(".snakemake")


def _npy_rows(path: Path) -> int | None:
    """The first dimension of a ``.npy`` array, from its header (format 1.0-3.0), or None."""
    with open(path, "rb") as handle:
        magic = handle.read(8)
        if len(magic) < 8 or magic[:6] != b"\x93NUMPY":
            return None
        width = 2 if magic[6] == 1 else 4
        length = int.from_bytes(handle.read(width), "little")
        try:
            header = ast.literal_eval(handle.read(length).decode("latin1"))
            shape = header["shape"]
        except (ValueError, SyntaxError, KeyError, TypeError):
            return None
    return int(shape[0]) if shape else 1


def _safetensors_count(path: Path) -> int | None:
    """The ``count`` of a ``.safetensors`` file's metadata (its JSON header), or None when it has none."""
    with open(path, "rb") as handle:
        length = int.from_bytes(handle.read(8), "little")
        try:
            count = json.loads(handle.read(min(length, 1 << 27)))["__metadata__"]["count"]
            return int(count)
        except (ValueError, KeyError, TypeError):
            return None


def count_of(path: StrPath) -> int | None:
    """The file's count where its format has one: non-blank lines of a line-based text file (records,
    rows, ids, run lines), rows of a ``.npy`` array, the metadata ``count`` of a ``.safetensors`` file
    that declares one (the teacher states: records); None for other formats (FAISS, JSON)."""
    path = Path(path)
    if path.suffix == ".npy":
        return _npy_rows(path)
    if path.suffix == ".safetensors":
        return _safetensors_count(path)
    if path.suffix in _LINE_SUFFIXES:
        with open(path, "rb") as handle:
            return sum(1 for line in handle if line.strip())
    return None


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def describe(path: StrPath) -> dict:
    """{"sha256", "size", "count"} of a file as it is now."""
    path = Path(path)
    return {"sha256": _sha256(path), "size": path.stat().st_size, "count": count_of(path)}


def files_of(path: StrPath) -> list[Path]:
    """The files a path stands for: itself, or every file below a folder (sidecars and partial files
    left out), sorted."""
    path = Path(path)
    if path.is_dir():
        return sorted(p for p in path.rglob("*") if p.is_file() and not is_sidecar(p))
    return [path]


def write_sidecar(path: StrPath) -> None:
    """Writes the sidecar of `path` (of each file below it, for a folder) beside it, atomically."""
    for file in files_of(path):
        write_text_atomic(sidecar_path(file), json.dumps(describe(file), sort_keys=True) + "\n")


def rebuild_command(path: StrPath) -> str:
    """The command that rebuilds a derived file: delete it, and let Snakemake make it (and what
    depends on it) again."""
    return f"rm '{path}' && snakemake --cores all '{path}' (Snakemake rebuilds it), then run your target again"


def _mismatch(path: Path, what: str, expected, found, declared: StrPath) -> SidecarMismatch:
    return SidecarMismatch(f"{path}: {what} differs from its sidecar (expected {expected}, found {found}); "
                          f"rebuild it: {rebuild_command(declared)}")


def check_sidecar(path: StrPath, verify: str) -> None:
    """Checks a derived file against its sidecar (each file below it, for a folder): size, count, and the
    SHA-256 under :data:`SHA_LIMIT` or with `verify` ``"full"``. Raises :class:`SidecarMismatch` naming the
    file, and `path` (the folder, for a file in one: what a rule declares) in the rebuild command."""
    if verify not in VERIFY_MODES:
        raise ValueError(f"verify must be one of {VERIFY_MODES}, not {verify!r}")
    for file in files_of(path):
        if not file.is_file():
            raise SidecarMismatch(f"{file}: a derived file is missing; rebuild it: {rebuild_command(path)}")
        try:
            sidecar = json.loads(sidecar_path(file).read_text(encoding="utf-8"))
            expected = {key: sidecar[key] for key in ("sha256", "size", "count")}
        except (OSError, ValueError, KeyError, TypeError):
            raise SidecarMismatch(f"{file}: no readable sidecar {sidecar_path(file).name} of what its job wrote; "
                                 f"rebuild it: {rebuild_command(path)}") from None
        size = file.stat().st_size
        if size != expected["size"]:
            raise _mismatch(file, "size", f"{expected['size']} bytes", f"{size}", path)
        count = count_of(file)
        if count != expected["count"]:
            raise _mismatch(file, "count", expected["count"], count, path)
        if verify == "full" or size < SHA_LIMIT:
            sha = _sha256(file)
            if sha != expected["sha256"]:
                raise _mismatch(file, "SHA-256", expected["sha256"][:16] + "…", sha[:16] + "…", path)


def under(path: StrPath, root: StrPath) -> bool:
    """Whether `path` lies inside the folder `root` (both resolved): a derived file of that results folder."""
    real, base = os.path.realpath(path), os.path.realpath(root)
    return real == base or real.startswith(base.rstrip(os.sep) + os.sep)
