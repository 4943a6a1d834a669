# One rule per way of preparing; which sources each rule prepares is in the source registries
# (swimscale.data.POOL_SOURCES, swimscale.data.benchmarks.SOURCES), and per-rule wildcard constraints
# read them, giving every language and benchmark exactly one producer (the Bible rule also writes its
# benchmark).


rule prepare_bible:
    output:
        pool=f"{RESULTS}/prepare/pools/{{language}}.jsonl",
        queries=f"{RESULTS}/prepare/benchmarks/bible-{{language}}-en/queries.tsv",
        corpus=f"{RESULTS}/prepare/benchmarks/bible-{{language}}-en/corpus.jsonl",
        qrels=f"{RESULTS}/prepare/benchmarks/bible-{{language}}-en/qrels.txt",
        manifest=f"{RESULTS}/prepare/manifests/bible-{{language}}.json",
    log:
        f"{RESULTS}/logs/prepare/bible-{{language}}.log",
    benchmark:
        f"{RESULTS}/timings/prepare/bible-{{language}}.tsv"
    wildcard_constraints:
        language=one_of(pools_prepared_by("prepare_bible")),
    conda:
        "../../envs/data.yaml"
    threads: 1
    params:
        language_name=lambda wc: config["pools"][wc.language]["language_name"],
        bible=config["bible"],
    script:
        "../scripts/prepare_bible.py"


rule prepare_pool:
    output:
        pool=f"{RESULTS}/prepare/pools/{{language}}.jsonl",
        manifest=f"{RESULTS}/prepare/manifests/pool-{{language}}.json",
    log:
        f"{RESULTS}/logs/prepare/pool-{{language}}.log",
    benchmark:
        f"{RESULTS}/timings/prepare/pool-{{language}}.tsv"
    wildcard_constraints:
        language=one_of(pools_prepared_by("prepare_pool")),
    conda:
        "../../envs/data.yaml"
    threads: 1
    resources:
        mem_mb=4000,
    params:
        pool=lambda wc: config["pools"][wc.language],
        # Every size is checked against the pool here, before any sampling or training.
        sizes=lambda wc: pool_sizes(wc.language),
        data_dir=DATA_DIR,
    script:
        "../scripts/prepare_pool.py"


rule prepare_benchmark:
    output:
        queries=f"{RESULTS}/prepare/benchmarks/{{benchmark}}/queries.tsv",
        corpus=f"{RESULTS}/prepare/benchmarks/{{benchmark}}/corpus.jsonl",
        qrels=f"{RESULTS}/prepare/benchmarks/{{benchmark}}/qrels.txt",
        manifest=f"{RESULTS}/prepare/manifests/benchmark-{{benchmark}}.json",
    log:
        f"{RESULTS}/logs/prepare/benchmark-{{benchmark}}.log",
    benchmark:
        f"{RESULTS}/timings/prepare/benchmark-{{benchmark}}.tsv"
    wildcard_constraints:
        benchmark=one_of(benchmarks_prepared_by("prepare_benchmark")),
    conda:
        "../../envs/data.yaml"
    threads: 1
    resources:
        mem_mb=8000,
    params:
        settings=lambda wc: config["benchmarks"][wc.benchmark],
        data_dir=DATA_DIR,
    script:
        "../scripts/prepare_benchmark.py"
