"""What every job of the workflow runs under: its environment (set once, by workflow/rules/common.smk)
and its log file; and, for a training job of several students, the copies of those it finished
(:class:`FinishedStudent`).

Standard library only: common.smk imports this module in the process that builds the DAG.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import sys
from pathlib import Path

from swimscale._types import StrPath
from swimscale.formats import SidecarMismatch, WriteFailed, check_sidecar, sidecar_path, write_sidecar
from swimscale.formats._sidecar import under

# Idle OpenMP threads sleep instead of spinning: spinning threads of two jobs sharing two cores made
# work up to 35x slower on our machines. OpenMP reads it once, when torch loads it, so it must be in the
# environment before a job starts (setting it inside a job script comes too late).
THREAD_ENVIRONMENT = {"OMP_WAIT_POLICY": "PASSIVE"}


def set_job_environment(src: StrPath | None = None, conda: bool = False) -> None:
    """Sets, in this process's environment, what every job it starts inherits: `THREAD_ENVIRONMENT`
    (a value the user set wins) and, with `src`, that folder first on PYTHONPATH, so that jobs import
    the tested library of this checkout (on cluster nodes too, where Snakemake re-reads common.smk and
    so calls this again).

    `conda=True` (a --use-conda run): PYTHONPATH is `src` alone, the user's entries left out, so a
    conda job sees its env and this checkout only. Snakemake passes PYTHONPATH into conda jobs only
    with --conda-not-block-search-path-envvars (snakemake/shell.py, shell.__new__: it deletes
    PYTHONPATH for conda jobs otherwise); the profiles set it, and common.smk stops without it.
    """
    for name, value in THREAD_ENVIRONMENT.items():
        os.environ.setdefault(name, value)
    if src is not None:
        kept = [] if conda else [os.environ.get("PYTHONPATH")]
        os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(src), *kept]))


def _inside(path: str, roots: list[str]) -> bool:
    real = os.path.realpath(path or os.curdir)
    return any(real == root or real.startswith(root.rstrip(os.sep) + os.sep) for root in roots)


def isolate_job_imports() -> list[str]:
    """In a Snakemake `script:` job that another interpreter than Snakemake's runs (a --use-conda
    job), takes off `sys.path` what is not this interpreter's own, this checkout's src/ or the
    script's folder; returns what it took off. Elsewhere it does nothing.

    Why: the preamble Snakemake writes into every script appends the host's whole `sys.path` (its
    venv's site-packages included) so that the job can unpickle the `snakemake` object
    (snakemake/script/__init__.py, PythonScript.generate_preamble, with
    snakemake/common/__init__.py, get_snakemake_searchpaths). A package missing from the conda env
    would then silently come from the host venv. Every job script (workflow/scripts/*.py) calls this
    first, so every later import of the job comes from its env; importing swimscale alone changes
    nothing. A module that the script imported before this call from those paths (anything but
    Snakemake's own packages, which the preamble needs) stops the job.
    """
    main = sys.modules.get("__main__")
    snakemake_module = sys.modules.get("snakemake")
    own = sorted({os.path.realpath(p) for p in (sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix)})
    if not (hasattr(main, "snakemake") and hasattr(main, "__real_file__")) or snakemake_module is None \
            or _inside(getattr(snakemake_module, "__file__", None) or "", own):
        return []  # not a script job, or Snakemake's own interpreter runs it (no conda)
    script_dirs = [os.path.dirname(os.path.realpath(f)) for f in (main.__real_file__, main.__file__)]
    keep = [*own, os.path.realpath(Path(__file__).resolve().parents[1]), *script_dirs]
    dropped = [p for p in sys.path if not _inside(p, keep)]
    sys.path[:] = [p for p in sys.path if p not in dropped]
    foreign = [os.path.realpath(p) for p in dropped if p]
    leaked = sorted({name.split(".")[0] for name, module in list(sys.modules.items())
                     if not name.startswith("snakemake") and getattr(module, "__file__", None)
                     and _inside(module.__file__, foreign) and not _inside(module.__file__, keep)})
    if leaked:
        found = ", ".join(f"{name} ({getattr(sys.modules.get(name), '__file__', None)})" for name in leaked)
        raise ImportError(f"imported from outside this job's conda env {sys.prefix}: {found}. Declare the "
                          "package for the rule's env in envs/spec.yaml and run `make locks`")
    return dropped


@contextlib.contextmanager
def job_log(path: str):
    """Everything printed inside goes to `path`; an exception still reaches Snakemake's terminal,
    so the user sees the message without opening the log."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as handle:
        with contextlib.redirect_stdout(handle), contextlib.redirect_stderr(handle):
            yield


def derived_inputs(inputs, results: StrPath) -> list[str]:
    """The inputs of a job that the workflow made: those inside the results folder (user files, the
    teacher's model and config files are not derived and have no sidecar)."""
    return [str(path) for path in inputs if under(path, results)]


@contextlib.contextmanager
def checked_job(snakemake):
    """What every job script runs in (inside :func:`job_log`): each derived input checked against its
    record before the job reads it (:func:`swimscale.formats.check_sidecar`, with the config's `verify`),
    and the sidecar of each output written once the job has made them all. A mismatch, or a write that
    found no room, stops the job with its one line on the terminal (not a traceback)."""
    try:
        with job_log(snakemake.log[0]):
            for path in derived_inputs(snakemake.input, snakemake.config["results_dir"]):
                check_sidecar(path, snakemake.config["verify"])
            yield
            for path in snakemake.output:
                if os.path.exists(path):  # a temp() output Snakemake already removed has nothing to record
                    write_sidecar(path)
    except (SidecarMismatch, WriteFailed) as error:
        raise SystemExit(str(error)) from None


class FinishedStudent:
    """A copy of one finished student's outputs in `folder`, outside them, for a training job of several
    students (``students_per_job``): when such a job fails, Snakemake deletes all of its outputs, those
    of the students it had finished too; a re-run restores these instead of training them again.

    `outputs`: {name: path} of the student's outputs (files or folders); `key`: what the student's
    results depend on (:meth:`key_of`), so that a copy made under other settings or from other inputs is
    never restored. The copy is made of hard links where the file system allows (no second copy on disk)
    and written key last, so a job killed while copying leaves none that counts.
    """

    KEY = "key.txt"

    def __init__(self, folder: StrPath, outputs: dict[str, StrPath], key: str):
        self.folder, self.outputs, self.key = Path(folder), {n: Path(p) for n, p in outputs.items()}, key

    @staticmethod
    def key_of(description, inputs) -> str:
        """SHA-256 of the student's description (JSON: settings, method, seed, size, paths) and of each of
        its `inputs` as recorded: its sidecar (a derived file's hash), else its size and mtime."""
        digest = hashlib.sha256(json.dumps(description, sort_keys=True, default=str).encode())
        for path in sorted(map(str, inputs)):
            side = sidecar_path(path)
            stat = os.stat(path)
            digest.update(side.read_bytes() if side.exists() else f"{path}:{stat.st_size}:{stat.st_mtime_ns}".encode())
        return digest.hexdigest()

    def save(self) -> None:
        """Copies the outputs (all made) into the folder, replacing any older copy."""
        self.discard()
        for name, path in self.outputs.items():
            _link_tree(path, self.folder / name)
        (self.folder / self.KEY).write_text(self.key + "\n")

    def restore(self) -> bool:
        """Puts a copy made under the same key back in place of the outputs; True if it did. A copy made
        under another key is deleted."""
        key_file = self.folder / self.KEY
        if not key_file.exists() or key_file.read_text().strip() != self.key:
            self.discard()
            return False
        for name, path in self.outputs.items():
            _remove(path)
            _link_tree(self.folder / name, path)
        return True

    def discard(self) -> None:
        _remove(self.folder)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()


def _link_tree(source: Path, target: Path) -> None:
    """`target` as a copy of the file or folder `source`: hard links, or copied bytes where linking fails."""
    files = [source] if source.is_file() else sorted(p for p in source.rglob("*") if p.is_file())
    if source.is_dir():
        target.mkdir(parents=True, exist_ok=True)
    for file in files:
        to = target if file == source else target / file.relative_to(source)
        to.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(file, to)
        except OSError:
            shutil.copy2(file, to)
