# Search and evaluation in one job per (test benchmark, student), and per (test benchmark, language) for
# the untrained student (N = 0): queries encoded as in training (train.max_length; cached prefix states
# when the student has a frozen prefix), exact search of the collection's index, the run file, then its
# metrics (per query and mean) from the run file as written.


rule search_zero_shot:
    input:
        unpack(search_inputs),
        model=teacher_model_files,
    output:
        run=f"{RESULTS}/search/{{benchmark}}/{{language}}/zero_shot.trec",
        metrics=f"{RESULTS}/evaluate/{{benchmark}}/{{language}}/zero_shot.json",
        per_query=f"{RESULTS}/evaluate/{{benchmark}}/{{language}}/zero_shot.per_query.tsv",
    log:
        f"{RESULTS}/logs/search/{{benchmark}}/{{language}}/zero_shot.log",
    benchmark:
        f"{RESULTS}/timings/search/{{benchmark}}/{{language}}/zero_shot.tsv"
    conda:
        TORCH_ENV
    threads: 1
    resources:
        mem_mb=4000,
        disk_mb=100,
    params:
        **SEARCH_PARAMS,
        tag="zero_shot",
    script:
        "../scripts/search.py"


rule search_student:
    input:
        unpack(search_inputs),
        model=teacher_model_files,
        student=f"{RESULTS}/train/{{language}}/{{method}}/seed{{seed}}/n{{size}}/student.safetensors",
    output:
        run=f"{RESULTS}/search/{{benchmark}}/{{language}}/{{method}}/seed{{seed}}/n{{size}}.trec",
        metrics=f"{RESULTS}/evaluate/{{benchmark}}/{{language}}/{{method}}/seed{{seed}}/n{{size}}.json",
        per_query=f"{RESULTS}/evaluate/{{benchmark}}/{{language}}/{{method}}/seed{{seed}}/n{{size}}.per_query.tsv",
    log:
        f"{RESULTS}/logs/search/{{benchmark}}/{{language}}/{{method}}/seed{{seed}}/n{{size}}.log",
    benchmark:
        f"{RESULTS}/timings/search/{{benchmark}}/{{language}}/{{method}}/seed{{seed}}/n{{size}}.tsv"
    conda:
        TORCH_ENV
    threads: 1
    resources:
        mem_mb=4000,
        disk_mb=100,
    params:
        **SEARCH_PARAMS,
        tag=lambda wc: f"{wc.method}_seed{wc.seed}_n{wc.size}",
    script:
        "../scripts/search.py"
