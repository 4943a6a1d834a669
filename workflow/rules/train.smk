# Training (one job per language x method x seed x N), which then searches and evaluates its student on
# each test benchmark of its language (one run and metrics file per benchmark in its two output
# folders: a student costs one job, not one per benchmark), and the frozen-prefix states of the
# benchmarks' queries. The job's searches are part of it: a test benchmark added to a trained language
# re-runs its training jobs (params `tests` changed; the students are temporary).
# With train.trainable_layers or train.freeze_embeddings the student's embeddings (and lower
# layers) are the teacher's, so their output for a query never changes: `query_states` computes it once
# per benchmark, and every student's dev evaluation and search reads it (swimscale.model.QueryStates).
# Their inputs: common.smk (training and search inputs).

# The wildcards that name a trained student, in the order of the Layout methods' arguments.
STUDENT = ("{language}", "{method}", "{seed}", "{size}")


rule query_states:
    input:
        queries=lambda wc: LAYOUT.benchmark_files(wc.benchmark)["queries"],
        model=TEACHER_FILES,
    output:
        LAYOUT.query_states("{benchmark}"),
    log:
        LAYOUT.logs.query_states("{benchmark}"),
    benchmark:
        LAYOUT.timings.query_states("{benchmark}")
    conda:
        TORCH_ENV
    threads: 1
    resources:
        mem_mb=4000,
        disk_mb=1000,
    params:
        teacher=SETTINGS.teacher.to_params(),
        train=SETTINGS.train.to_params(),
    script:
        "../scripts/query_states.py"


rule train:
    input:
        unpack(train_inputs),
        unpack(TEACHER_STATES_INPUT),
        sample=LAYOUT.sample("{language}", "{seed}", "{size}"),
        model=TEACHER_FILES,
    output:
        student=student_file(LAYOUT.student(*STUDENT)),
        train_log=LAYOUT.train_log(*STUDENT),
        runs=directory(LAYOUT.runs_dir(*STUDENT)),
        metrics=directory(LAYOUT.metrics_dir(*STUDENT)),
    log:
        LAYOUT.logs.train(*STUDENT),
    benchmark:
        LAYOUT.timings.train(*STUDENT)
    conda:
        TORCH_ENV
    # One thread: two single-threaded jobs use two cores better than one job on both (small GEMMs).
    threads: 1
    # A re-run resumes from the job's checkpoint. With `--retries` (set in profiles/), each retry
    # halves the micro-batch (gradient accumulation keeps the update, up to float rounding and
    # dropout draws) and adds memory: the answer to running out of GPU or host memory. The contrastive
    # arm's in-batch negatives cannot be split: its retry runs the whole batch again, and out of memory
    # it stops naming train.batch_size (swimscale.config.micro_batch, swimscale.model.check_micro_batch).
    resources:
        gpu=1,
        mem_mb=lambda wc, attempt: 9000 * attempt,
        disk_mb=8000,
        micro_batch=lambda wc, attempt: micro_batch(
            wc.method, config["train"]["batch_size"], attempt
        ),
    params:
        teacher=SETTINGS.teacher.to_params(),
        train=SETTINGS.train.to_params(),
        search=SETTINGS.search.to_params(),
        checkpoint=LAYOUT.checkpoint(*STUDENT),
        checkpoint_every=config["checkpoint_every"],
        checkpoint_minutes=config["checkpoint_minutes"],
        tests=student_tests,
    script:
        "../scripts/train.py"
