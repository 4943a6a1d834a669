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
        f"{RESULTS}/benchmarks/prepare/bible-{{language}}.tsv"
    conda:
        "../../envs/data.yaml"
    threads: 1
    params:
        language_name=lambda wc: config["pools"][wc.language]["language_name"],
        bible=config["bible"],
    script:
        "../scripts/prepare_bible.py"
