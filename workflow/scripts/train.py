# First, before any other import: in a --use-conda job this takes off sys.path what Snakemake's script
# preamble appended from the host, so every later import comes from the job's env (swimscale.jobs).
from swimscale.jobs import isolate_job_imports

isolate_job_imports()

import contextlib
from pathlib import Path

import numpy as np
import torch

from swimscale.config import IN_BATCH_NEGATIVES, Settings, micro_batch
from swimscale.formats import rebuild_command
from swimscale.data import read_pool, read_queries
from swimscale.jobs import FinishedStudent, checked_job
from swimscale.model import (
    BenchmarkFiles,
    DevSet,
    JobShared,
    MicroBatchError,
    QueryStates,
    check_search_inputs,
    require_device,
    resolve_model,
    set_threads,
    shared_encoders,
    train_and_search,
)
from swimscale.retrieval import read_qrels


def sample_records(path, size, cap):
    """The sample's records, refused unless there are `size` of them (fewer only under the pool's
    `cap_sizes`, which the training log then records as `capped_to`): a student trained on fewer
    records than its size would be reported at that size."""
    records = read_pool(path)
    if len(records) != size and not (cap and len(records) < size):
        raise SystemExit(f"{path}: {len(records)} records, its size is {size}; rebuild it: {rebuild_command(path)}")
    return records


def check_inputs(tests, teacher):
    """Every search input of the job opened and checked before the first update (model/_search.py)."""
    from transformers import AutoConfig

    hidden = AutoConfig.from_pretrained(resolve_model(teacher.model), trust_remote_code=False).hidden_size
    for paths in tests.values():
        check_search_inputs(BenchmarkFiles.from_paths(paths), hidden)


def dev_set(inputs, teacher):
    """The language's dev set (None without one: a fixed budget then logs no dev curve)."""
    if "dev_queries" not in inputs.keys():
        return None
    states = QueryStates.load(Path(inputs.dev_states)) if "dev_states" in inputs.keys() else None
    return DevSet(
        read_queries(Path(inputs.dev_queries)),
        np.load(inputs.dev_embeddings),
        Path(inputs.dev_docids).read_text(encoding="utf-8").split(),
        read_qrels(Path(inputs.dev_qrels)),
        teacher,
        states,
    )


def job_students(job) -> list[dict]:
    """The students of this job, each {method, seed, size, sample, checkpoint, outputs, tests} (and
    `finished`, where a copy of it is kept once it is made): the group rules' params `students`
    (students_per_job), or the one student of rule `train`'s wildcards."""
    if "students" in job.params.keys():
        return job.params.students
    wildcards = job.wildcards
    return [dict(method=wildcards.method, seed=int(wildcards.seed), size=int(wildcards.size),
                 sample=job.input.sample, checkpoint=job.params.checkpoint, tests=job.params.tests,
                 outputs={name: job.output[name] for name in ("student", "train_log", "runs")})]


def job_language(job) -> str:
    """The job's language (every student of a job is of one): a group rule's params, or rule `train`'s
    wildcards."""
    return (job.params if "language" in job.params.keys() else job.wildcards).language


def student_micro_batch(job, method: str, batch_size: int) -> int:
    """A student's micro-batch at this attempt of its job: rule `train`'s resource `micro_batch` (of its
    one method), or, in a group job, whose students' methods may differ (students_per_job: language),
    swimscale.config.micro_batch of the student's method at the job's resource `attempt`: halved at each
    retry, never split for a method with in-batch negatives."""
    if "attempt" in job.resources.keys():
        return micro_batch(method, batch_size, job.resources.attempt)
    return job.resources.micro_batch


@contextlib.contextmanager
def training_errors(method: str, batch_size: int, micro_batch: int):
    """Running out of GPU memory, or a retry's micro-batch that the method cannot take, stops the job
    with what to do (one line, not a traceback)."""
    try:
        yield
    except MicroBatchError as error:  # a retry's smaller micro-batch would change the in-batch negatives
        raise SystemExit(str(error)) from None
    except torch.cuda.OutOfMemoryError:
        if method in IN_BATCH_NEGATIVES:  # its batch cannot be split (config.micro_batch)
            raise SystemExit(
                f"out of GPU memory at batch {batch_size}: method '{method}' "
                "cannot split its batch (in-batch negatives); lower train.batch_size for every run of the "
                "study, or give the job a larger GPU"
            ) from None
        raise SystemExit(
            f"out of GPU memory at micro-batch {micro_batch}; "
            "run again with --retries 1 (or more): each retry halves it and resumes from the checkpoint"
        ) from None


def finished_copy(job, student: dict, dev_inputs: list) -> FinishedStudent:
    """The copy of a group job's finished student, keyed by everything its results depend on: the job's
    settings and the student's own params (its method among them), and its sample, dev and search
    inputs as recorded."""
    description = dict(params={key: getattr(job.params, key) for key in ("teacher", "train", "search")},
                       method=student["method"], student=student, dtype=job.config["student_dtype"])
    outputs = [Path(path) for path in student["outputs"].values()]
    searched = [path for paths in student["tests"].values() for path in paths.values()
                if not any(Path(path).is_relative_to(folder) for folder in outputs)]  # not its runs
    inputs = [student["sample"], *dev_inputs, *searched]
    return FinishedStudent(student["finished"], student["outputs"], FinishedStudent.key_of(description, inputs))


def train_students(job) -> None:
    """Trains the job's students one after another (a finished one restored from its copy, where kept)."""
    set_threads(job.threads)
    # A GPU job stops here without a usable GPU (unless allow_cpu: true), instead of training on CPU unseen.
    require_device(job.config["allow_cpu"], job.resources.get("gpu", 0))
    settings = Settings.from_params(job.params)  # its teacher, train and search params
    language = job_language(job)
    dev_inputs = [path for key, path in job.input.items() if key.startswith("dev_")]
    students, dev, dev_loaded = job_students(job), None, False
    # Once per job: per seed, its largest sample (read, with sample_records' checks, when the seed's first
    # student starts), its tokenised queries and teacher states, shared by the seed's students (one seed
    # at a time: the students are trained seed after seed).
    cap = job.config["pools"][language]["cap_sizes"]
    methods = sorted({student["method"] for student in students})  # what the seed's states must keep
    shared = JobShared.of_students(students, lambda s: sample_records(Path(s["sample"]), s["size"], cap), methods)
    students = JobShared.order(students)
    for number, student in enumerate(students, 1):
        method = student["method"]
        name = f"{method} seed {student['seed']} N {student['size']} ({number} of {len(students)})"
        kept = finished_copy(job, student, dev_inputs) if "finished" in student else None
        if kept is not None and kept.restore():
            print(f"{name}: restored, as this job made it before it failed, from {student['finished']}")
            continue
        print(f"{name}: training")
        shared.seed(student["seed"])  # the seed's largest sample read first (the previous seed's data freed)
        records = sample_records(Path(student["sample"]), student["size"], cap)
        if not dev_loaded:  # once per job: every student of a job is of one language (same searches, dev)
            check_inputs(student["tests"], settings.teacher)  # before the GPU's first update
            dev, dev_loaded = dev_set(job.input, settings.teacher), True
        micro = student_micro_batch(job, method, settings.train.batch_size)
        with training_errors(method, settings.train.batch_size, micro):
            train_and_search(records, settings, method, student["seed"], student["size"], dev=dev,
                             outputs=student["outputs"], tests=student["tests"],
                             checkpoint=Path(student["checkpoint"]),
                             checkpoint_every=job.params.checkpoint_every,
                             checkpoint_minutes=job.params.checkpoint_minutes,
                             micro_batch_size=micro,
                             dtype=job.config["student_dtype"],
                             teacher_states=Path(job.input.teacher_states) if "teacher_states" in job.input.keys() else None,
                             shared=shared)
        if kept is not None:
            kept.save()  # until the job ends: a failure after this student does not lose it
    for student in students:
        if "finished" in student:
            FinishedStudent(student["finished"], {}, "").discard()  # the job's outputs are all in place


with checked_job(snakemake):
    with shared_encoders():  # each model read from disk once, for all of the job's students
        train_students(snakemake)
