# Search of the untrained student (N = 0), one job per (test benchmark, language): its queries encoded
# as in training (train.max_length; cached prefix states when the student has a frozen prefix), exact
# search of the collection's index, the run file and its search record (swimscale.model.search_benchmark).
# A trained student is searched the same way inside its training job (train.smk). The runs are scored
# by evaluate_zero_shot (evaluate.smk); the queries are read through ancient() (common.smk, REPREPARED),
# so a qrels edit rescores without searching again.


rule search_zero_shot:
    input:
        unpack(search_inputs),
        model=TEACHER_FILES,
    output:
        **search_roles(LAYOUT.zero_shot_files("{language}", "{benchmark}")),  # run, searched
    log:
        LAYOUT.logs.search_zero_shot("{language}", "{benchmark}"),
    benchmark:
        LAYOUT.timings.search_zero_shot("{language}", "{benchmark}")
    conda:
        TORCH_ENV
    threads: 1
    resources:
        mem_mb=4000,
        disk_mb=100,
    params:
        teacher=SETTINGS.teacher.to_params(),
        train=SETTINGS.train.to_params(),
        search=SETTINGS.search.to_params(),
    script:
        "../scripts/search.py"
