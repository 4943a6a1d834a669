rule subsample:
    input:
        pool=f"{RESULTS}/prepare/pools/{{language}}.jsonl",
    output:
        f"{RESULTS}/subsample/{{language}}/seed{{seed}}/n{{size}}.jsonl",
    log:
        f"{RESULTS}/logs/subsample/{{language}}/seed{{seed}}/n{{size}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/subsample/{{language}}/seed{{seed}}/n{{size}}.tsv"
    conda:
        "../../envs/data.yaml"
    threads: 1
    script:
        "../scripts/subsample.py"
