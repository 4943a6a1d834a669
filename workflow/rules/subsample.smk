rule subsample:
    input:
        # The validated pool: checked, and screened against the benchmarks' relevant documents.
        pool=LAYOUT.validated_pool("{language}"),
    output:
        LAYOUT.sample("{language}", "{seed}", "{size}"),
    log:
        LAYOUT.logs.subsample("{language}", "{seed}", "{size}"),
    benchmark:
        LAYOUT.timings.subsample("{language}", "{seed}", "{size}")
    conda:
        "../../envs/data.yaml"
    threads: 1
    resources:
        mem_mb=1500,
        disk_mb=500,
    params:
        # With cap_sizes a size above the pool trains on the whole pool (recorded in the log).
        cap=lambda wc: config["pools"][wc.language]["cap_sizes"],
    script:
        "../scripts/subsample.py"
