"""What every job of the workflow runs under: its environment (set once, by workflow/rules/common.smk)
and its log file.

Standard library only: common.smk imports this module in the process that builds the DAG.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from swimscale._types import StrPath

# Idle OpenMP threads sleep instead of spinning: spinning threads of two jobs sharing two cores made
# work up to 35x slower on our machines. OpenMP reads it once, when torch loads it, so it must be in the
# environment before a job starts (setting it inside a job script comes too late).
THREAD_ENVIRONMENT = {"OMP_WAIT_POLICY": "PASSIVE"}


def set_job_environment(src: StrPath | None = None) -> None:
    """Sets, in this process's environment, what every job it starts inherits: `THREAD_ENVIRONMENT`
    (a value the user set wins) and, with `src`, that folder first on PYTHONPATH, so that jobs import
    the tested library of this checkout, also inside --use-conda environments and on cluster nodes
    (where Snakemake re-reads common.smk and so calls this again).
    """
    for name, value in THREAD_ENVIRONMENT.items():
        os.environ.setdefault(name, value)
    if src is not None:
        os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(src), os.environ.get("PYTHONPATH")]))


@contextlib.contextmanager
def job_log(path: str):
    """Everything printed inside goes to `path`; an exception still reaches Snakemake's terminal,
    so the user sees the message without opening the log."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as handle:
        with contextlib.redirect_stdout(handle), contextlib.redirect_stderr(handle):
            yield
