"""One student of a training job, start to end: trained, saved with its log, and searched on each test
benchmark of its language (the evaluate rule scores the runs). A training job calls it once per student (one, or several one after another
with ``students_per_job``: workflow/scripts/train.py), so that a student's files are the same whichever
job trained it.
"""

from __future__ import annotations

import json
from pathlib import Path

from swimscale.config import Settings
from swimscale.model._checkpoint import Checkpoints
from swimscale.model._encode import load_tokenizer
from swimscale.model._search import BenchmarkFiles, search_benchmark
from swimscale.model._select import DevSet
from swimscale.model._shared import JobShared
from swimscale.model._student import as_stored, save_student
from swimscale.model._train import train_student


def train_and_search(records: list[dict], settings: Settings, method: str, seed: int, size: int, *,
                     dev: DevSet | None, outputs: dict, tests: dict, checkpoint: Path, checkpoint_every: int,
                     checkpoint_minutes: float, micro_batch_size: int | None, dtype: str | None,
                     teacher_states: Path | None = None, shared: JobShared | None = None) -> dict:
    """Trains the student of (`method`, `seed`, N = `size`) on `records` (:func:`train_student`, resuming
    from `checkpoint`), writes ``outputs["student"]`` (stored as `dtype`) and ``outputs["train_log"]``,
    searches the stored student on each of `tests` ({benchmark: its files, :class:`BenchmarkFiles`}),
    then deletes the checkpoint; returns the log. ``capped_to`` is logged when the sample has fewer
    records than `size` (a pool's ``cap_sizes``). `teacher_states`: the language's teacher-states file,
    when the job reads it (:func:`swimscale.model.teacher_view`). `shared`: the job's data shared by its
    students (:class:`swimscale.model.JobShared`), built once per job."""
    student, log = train_student(records, settings.teacher, settings.train, method, seed, dev=dev,
                                 checkpoint=checkpoint, checkpoint_every=checkpoint_every,
                                 checkpoint_minutes=checkpoint_minutes, micro_batch_size=micro_batch_size,
                                 teacher_states=teacher_states, shared=shared)
    if len(records) != size:
        log["capped_to"] = len(records)  # cap_sizes: the recall table reports it beside the size
    save_student(student, Path(outputs["student"]), dtype)
    Path(outputs["train_log"]).write_text(json.dumps(log, indent=1) + "\n")
    print(f"{log['steps']} updates ({log['stopped_by']}), best at {log['steps_at_best']}, "
          f"{log['examples_per_second']} examples/s")
    # The student as its file holds it, searched on every test benchmark of its language here rather than
    # in a job per benchmark (which would start Python and load the model again). The runs are scored by
    # the evaluate rule (workflow/rules/evaluate.smk), which reads the judgements: a qrels edit rescores.
    student = as_stored(student, dtype)
    tokenizer = load_tokenizer(settings.teacher.model)
    tag = f"{method}_seed{seed}_n{size}"
    for name, paths in tests.items():
        record = search_benchmark(student, tokenizer, BenchmarkFiles.from_paths(paths), settings, tag)
        print(f"{name}: searched: {record}")
    Checkpoints(checkpoint, 0, "").discard()  # the finished student supersedes it (and any partial file)
    return log
