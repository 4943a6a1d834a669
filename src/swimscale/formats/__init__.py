"""swimscale's file formats and the one way a file is written, on the ground floor: standard library
only, importable by every subpackage, importing none of them (only :mod:`swimscale.errors` and
:mod:`swimscale._types`).

* TREC runs (:func:`read_run`, :func:`write_run`; :data:`Run`) and qrels (:func:`read_qrels`,
  :func:`iter_qrels`, :func:`write_qrels`; :data:`Qrels`): one set of rules for every reader, each
  refusal an :class:`~swimscale.errors.InputError` naming file and line (see the modules' docstrings).
* Text files line by line (:func:`numbered_lines`, :func:`decoded_lines`): UTF-8, each line with its
  own number, a bad byte reported with its line and column.
* The atomic write (:func:`atomic_path`, :func:`atomic_open`, :func:`write_text_atomic`): written to
  ``<name>.partial`` in the same folder, synced, renamed into place; on error the partial file is
  removed and the old file stays; no room or rights to write (ENOSPC, EDQUOT, EROFS) is one
  :class:`WriteFailed` line with the file, the free space and what to do.
* Sidecars (:func:`write_sidecar`, :func:`check_sidecar`): each derived file's SHA-256, size and
  count, written by the job that made it and checked by every job that reads it.
* The results folder's run lock (:func:`take_lock`, :func:`release_lock`): one run per results folder.
* Shared limits and patterns: :data:`LANGUAGE_CODE` (and :data:`LANGUAGE_CODE_PATTERN`),
  :data:`MAX_UNDEFINED_SHARE`, :data:`INTEGER`.
"""

from swimscale.formats._atomic import (
    PARTIAL_SUFFIX,
    WriteFailed,
    atomic_open,
    atomic_path,
    partial_path,
    write_text_atomic,
)
from swimscale.formats._limits import INTEGER, LANGUAGE_CODE, LANGUAGE_CODE_PATTERN, MAX_UNDEFINED_SHARE
from swimscale.formats._lines import ReadError, decoded_lines, numbered_lines, utf8_error
from swimscale.formats._lock import LockHeld, release_lock, take_lock
from swimscale.formats._sidecar import (
    SIDECAR_SUFFIX,
    SHA_LIMIT,
    SidecarMismatch,
    check_sidecar,
    count_of,
    rebuild_command,
    sidecar_path,
    write_sidecar,
)
from swimscale.formats._qrels import QRELS_LAYOUT, Judgement, Qrels, iter_qrels, read_qrels, write_qrels
from swimscale.formats._trec_run import RUN_LAYOUT, Run, read_run, write_run

__all__ = [
    "INTEGER",
    "LANGUAGE_CODE",
    "LANGUAGE_CODE_PATTERN",
    "MAX_UNDEFINED_SHARE",
    "PARTIAL_SUFFIX",
    "SIDECAR_SUFFIX",
    "SHA_LIMIT",
    "LockHeld",
    "SidecarMismatch",
    "WriteFailed",
    "check_sidecar",
    "count_of",
    "rebuild_command",
    "sidecar_path",
    "release_lock",
    "take_lock",
    "write_sidecar",
    "QRELS_LAYOUT",
    "RUN_LAYOUT",
    "Judgement",
    "Qrels",
    "ReadError",
    "Run",
    "atomic_open",
    "atomic_path",
    "decoded_lines",
    "iter_qrels",
    "numbered_lines",
    "partial_path",
    "read_qrels",
    "read_run",
    "utf8_error",
    "write_qrels",
    "write_run",
    "write_text_atomic",
]
