rule subsample:
    input:
        pool=f"{RESULTS}/prepare/pools/{{language}}.jsonl",
    output:
        f"{RESULTS}/subsample/{{language}}/seed{{seed}}/n{{size}}.jsonl",
    log:
        f"{RESULTS}/logs/subsample/{{language}}/seed{{seed}}/n{{size}}.log",
    benchmark:
        f"{RESULTS}/timings/subsample/{{language}}/seed{{seed}}/n{{size}}.tsv"
    conda:
        "../../envs/data.yaml"
    threads: 1
    params:
        # With cap_sizes a size above the pool trains on the whole pool (recorded in the log).
        cap=lambda wc: config["pools"][wc.language]["cap_sizes"],
    script:
        "../scripts/subsample.py"
