# Training (one job per language x method x seed x N), which then searches its student on each test
# benchmark of its language (one run and search record per benchmark in its runs folder: a student
# costs one job, not one per benchmark), and the frozen-prefix states of the benchmarks' queries. The
# runs are scored by the evaluate rule (evaluate.smk), which reads the judgements: a qrels edit of a
# test benchmark rescores, it does not retrain (the queries, written again when the benchmark is
# prepared again, are read through ancient(): common.smk, REPREPARED). The job's searches are part of
# it: a test benchmark added to a trained language re-runs its training jobs (params `tests` changed;
# the students are temporary unless keep_students: docs/cluster.md).
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


if config["students_per_job"] == "one":

    rule train:
        input:
            unpack(train_inputs),
            unpack(TEACHER_STATES_INPUT),
            sample=LAYOUT.sample("{language}", "{seed}", "{size}"),
            model=TEACHER_FILES,
        output:
            **student_outputs(*STUDENT),  # student, train_log, runs
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
            mem_mb=lambda wc, attempt: TRAIN_MEM_MB * attempt,
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

else:
    # students_per_job: seeds, sizes_and_seeds or language. One rule per job
    # (swimscale.config.Sweep.student_groups), named train_<language>_<method>_n<N>, train_<language>_<method>
    # or train_<language>, without wildcards: its outputs are every file of each of its students, so asking
    # for one student's file runs its whole job. The script trains the students one after another in one
    # process (imports, model and dev set loaded once), each equal to a job of its own (its method, seed
    # and N are the student's); it keeps a copy of each finished student's outputs (LAYOUT.finished) that
    # a re-run of a failed job restores instead of training it again.
    for group in SWEEP.student_groups():

        rule:
            name:
                group["rule"]
            input:
                **train_files(group["language"]),
                **language_states_files(config, LAYOUT, group["language"]),
                samples=group_samples(group),
                model=TEACHER_FILES,
            output:
                **group_outputs(group),
            log:
                LAYOUT.logs.train_students(
                    group["language"], group["method"], group["size"]
                ),
            benchmark:
                LAYOUT.timings.train_students(
                    group["language"], group["method"], group["size"]
                )
            conda:
                TORCH_ENV
            threads: 1
            resources:
                **group_resources(group),
            params:
                teacher=SETTINGS.teacher.to_params(),
                train=SETTINGS.train.to_params(),
                search=SETTINGS.search.to_params(),
                language=group["language"],
                students=group_students(group),
                checkpoint_every=config["checkpoint_every"],
                checkpoint_minutes=config["checkpoint_minutes"],
            script:
                "../scripts/train.py"
