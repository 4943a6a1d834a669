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
        pool=LAYOUT.pool("{language}"),
        pool_manifest=LAYOUT.pool_manifest("{language}"),
    log:
        LAYOUT.logs.prepare_bible("{language}"),
    benchmark:
        LAYOUT.timings.prepare_bible("{language}")
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
        pool=LAYOUT.pool("{language}"),
        manifest=LAYOUT.pool_manifest("{language}"),
    log:
        LAYOUT.logs.prepare_pool("{language}"),
    benchmark:
        LAYOUT.timings.prepare_pool("{language}")
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
        **LAYOUT.collection_files("{collection}"),  # corpus
        manifest=LAYOUT.collection_manifest("{collection}"),
    log:
        LAYOUT.logs.prepare_collection("{collection}"),
    benchmark:
        LAYOUT.timings.prepare_collection("{collection}")
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
        corpus=lambda wc: LAYOUT.collection_files(collection_of(wc.benchmark))["corpus"],
        user_files=lambda wc: benchmark_user_files(wc.benchmark),
    output:
        **LAYOUT.benchmark_files("{benchmark}"),  # queries, qrels
        manifest=LAYOUT.benchmark_manifest("{benchmark}"),
    log:
        LAYOUT.logs.prepare_benchmark("{benchmark}"),
    benchmark:
        LAYOUT.timings.prepare_benchmark("{benchmark}")
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
