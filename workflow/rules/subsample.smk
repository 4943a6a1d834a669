rule subsample:
    input:
        # The validated pool: checked, and screened against the benchmarks' relevant documents.
        pool=validated_pool("{language}"),
    output:
        f"{RESULTS}/subsample/{{language}}/seed{{seed}}/n{{size}}.jsonl",
    log:
        f"{RESULTS}/logs/subsample/{{language}}/seed{{seed}}/n{{size}}.log",
    benchmark:
        f"{RESULTS}/timings/subsample/{{language}}/seed{{seed}}/n{{size}}.tsv"
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
