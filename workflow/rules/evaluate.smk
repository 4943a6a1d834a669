rule evaluate:
    input:
        run=f"{RESULTS}/search/{{benchmark}}/{{run}}.trec",
        qrels=f"{RESULTS}/prepare/benchmarks/{{benchmark}}/qrels.txt",
    output:
        metrics=f"{RESULTS}/evaluate/{{benchmark}}/{{run}}.json",
        per_query=f"{RESULTS}/evaluate/{{benchmark}}/{{run}}.per_query.tsv",
    log:
        f"{RESULTS}/logs/evaluate/{{benchmark}}/{{run}}.log",
    benchmark:
        f"{RESULTS}/timings/evaluate/{{benchmark}}/{{run}}.tsv"
    wildcard_constraints:
        run="[a-z]{2,3}/.+",
    conda:
        "../../envs/analysis.yaml"
    threads: 1
    script:
        "../scripts/evaluate.py"
