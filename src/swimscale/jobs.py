"""Sends a Snakemake job's output (progress bars included) to its log file."""

from __future__ import annotations

import contextlib
from pathlib import Path


@contextlib.contextmanager
def job_log(path: str):
    """Everything printed inside goes to `path`; an exception still reaches Snakemake's terminal,
    so the user sees the message without opening the log."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as handle:
        with contextlib.redirect_stdout(handle), contextlib.redirect_stderr(handle):
            yield
