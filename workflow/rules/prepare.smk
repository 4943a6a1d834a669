# One rule per way of preparing; which sources each rule prepares is in the source registries
# (swimscale.data.POOL_SOURCES, swimscale.data.benchmarks.SOURCES), and per-rule wildcard constraints
# read them, giving every language, benchmark and collection exactly one producer. The Bible rule
# writes the pool, the test and dev benchmarks and their collections; the other benchmarks are written
# in two steps: their collection (prepare_collection, once however many benchmarks search it), then
# each benchmark against it (prepare_benchmark).


rule prepare_bible:
    output:
        **{
            f"test_{role}": path
            for role, path in bible_held_out("bible-{language}-en").items()
        },
        **{
            f"dev_{role}": path
            for role, path in bible_held_out("bible-{language}-en-dev").items()
        },
        pool=f"{RESULTS}/prepare/pools/{{language}}.jsonl",
        pool_manifest=f"{RESULTS}/prepare/manifests/pool-{{language}}.json",
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
    input:
        # The user's files the pool is read from (a release, a pre-staged snapshot): an edit re-runs it.
        user_files=lambda wc: pool_user_files(wc.language),
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
        mem_mb=3000,
        disk_mb=4000,
    params:
        pool=lambda wc: config["pools"][wc.language],
        # Every size is checked against the pool here, before any sampling or training.
        sizes=lambda wc: pool_sizes(wc.language),
        data_dir=DATA_DIR,
    script:
        "../scripts/prepare_pool.py"


rule prepare_collection:
    input:
        user_files=lambda wc: collection_user_files(wc.collection),
    output:
        corpus=f"{RESULTS}/prepare/collections/{{collection}}/corpus.jsonl",
        manifest=f"{RESULTS}/prepare/manifests/collection-{{collection}}.json",
    log:
        f"{RESULTS}/logs/prepare/collection-{{collection}}.log",
    benchmark:
        f"{RESULTS}/timings/prepare/collection-{{collection}}.tsv"
    wildcard_constraints:
        collection=one_of(collections_prepared_by("prepare_collection")),
    conda:
        "../../envs/data.yaml"
    threads: 1
    resources:
        mem_mb=8000,
        disk_mb=2000,
    params:
        # Every benchmark of the config that searches the collection (validated entries).
        members=lambda wc: members_of(wc.collection),
        data_dir=DATA_DIR,
    script:
        "../scripts/prepare_collection.py"


rule prepare_benchmark:
    input:
        corpus=lambda wc: collection_files(collection_of(wc.benchmark))["corpus"],
        user_files=lambda wc: benchmark_user_files(wc.benchmark),
    output:
        queries=f"{RESULTS}/prepare/benchmarks/{{benchmark}}/queries.tsv",
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
        mem_mb=2000,
        disk_mb=500,
    params:
        settings=lambda wc: config["benchmarks"][wc.benchmark],
        data_dir=DATA_DIR,
    script:
        "../scripts/prepare_benchmark.py"
