# First, before any other import: in a --use-conda job this takes off sys.path what Snakemake's script
# preamble appended from the host, so every later import comes from the job's env (swimscale.jobs).
from swimscale.jobs import isolate_job_imports

isolate_job_imports()

import json
from pathlib import Path

import numpy as np
import torch

from swimscale.config import IN_BATCH_NEGATIVES, Settings
from swimscale.formats import rebuild_command
from swimscale.data import read_pool, read_queries
from swimscale.jobs import checked_job
from swimscale.model import (
    BenchmarkFiles,
    Checkpoints,
    DevSet,
    MicroBatchError,
    QueryStates,
    as_stored,
    check_search_inputs,
    load_tokenizer,
    require_device,
    resolve_model,
    save_student,
    search_benchmark,
    set_threads,
    train_student,
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


with checked_job(snakemake):
    set_threads(snakemake.threads)
    # A GPU job stops here without a usable GPU (unless allow_cpu: true), instead of training on CPU unseen.
    require_device(snakemake.config["allow_cpu"], snakemake.resources.get("gpu", 0))
    settings = Settings.from_params(snakemake.params)  # its teacher, train and search params
    size, cap = int(snakemake.wildcards.size), snakemake.config["pools"][snakemake.wildcards.language]["cap_sizes"]
    records = sample_records(Path(snakemake.input.sample), size, cap)
    check_inputs(snakemake.params.tests, settings.teacher)  # before the GPU's first update
    checkpoint = Path(snakemake.params.checkpoint)
    try:
        student, log = train_student(
            records,
            settings.teacher,
            settings.train,
            snakemake.wildcards.method,
            int(snakemake.wildcards.seed),
            dev=dev_set(snakemake.input, settings.teacher),
            checkpoint=checkpoint,
            checkpoint_every=snakemake.params.checkpoint_every,
            checkpoint_minutes=snakemake.params.checkpoint_minutes,
            micro_batch_size=snakemake.resources.micro_batch,
            teacher_states=Path(snakemake.input.teacher_states) if "teacher_states" in snakemake.input.keys() else None,
        )
    except MicroBatchError as error:  # a retry's smaller micro-batch would change the in-batch negatives
        raise SystemExit(str(error)) from None
    except torch.cuda.OutOfMemoryError:
        if snakemake.wildcards.method in IN_BATCH_NEGATIVES:  # its batch cannot be split (config.micro_batch)
            raise SystemExit(
                f"out of GPU memory at batch {settings.train.batch_size}: method '{snakemake.wildcards.method}' "
                "cannot split its batch (in-batch negatives); lower train.batch_size for every run of the "
                "study, or give the job a larger GPU"
            ) from None
        raise SystemExit(
            f"out of GPU memory at micro-batch {snakemake.resources.micro_batch}; "
            "run again with --retries 1 (or more): each retry halves it and resumes from the checkpoint"
        ) from None
    if len(records) != size:
        log["capped_to"] = len(records)  # cap_sizes: the recall table reports it beside the size
    dtype = snakemake.config["student_dtype"]
    save_student(student, Path(snakemake.output.student), dtype)
    Path(snakemake.output.train_log).write_text(json.dumps(log, indent=1) + "\n")
    print(
        f"{log['steps']} updates ({log['stopped_by']}), best at {log['steps_at_best']}, "
        f"{log['examples_per_second']} examples/s"
    )
    # The student as its file holds it, searched on every test benchmark of its language here rather than
    # in a job per benchmark (which would start Python and load the model again).
    student = as_stored(student, dtype)
    tokenizer = load_tokenizer(settings.teacher.model)
    tag = f"{snakemake.wildcards.method}_seed{snakemake.wildcards.seed}_n{snakemake.wildcards.size}"
    for name, paths in snakemake.params.tests.items():
        summary = search_benchmark(student, tokenizer, BenchmarkFiles.from_paths(paths), settings, tag)
        print(f"{name}: {summary['n_queries']} queries searched: {summary}")
    Checkpoints(checkpoint, 0, "").discard()  # the finished job supersedes it (and any partial file)
