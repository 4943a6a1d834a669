rule encode_corpus:
    input:
        corpus=f"{RESULTS}/prepare/benchmarks/{{benchmark}}/corpus.jsonl",
    output:
        embeddings=f"{RESULTS}/encode/{TEACHER}/{{benchmark}}/corpus.npy",
        docids=f"{RESULTS}/encode/{TEACHER}/{{benchmark}}/docids.txt",
    log:
        f"{RESULTS}/logs/encode/{TEACHER}/{{benchmark}}.log",
    benchmark:
        f"{RESULTS}/timings/encode/{TEACHER}/{{benchmark}}.tsv"
    conda:
        TORCH_ENV
    threads: 2
    resources:
        mem_mb=6000,
    params:
        teacher=config["teacher"]["model"],
        pooling=config["teacher"]["pooling"],
        max_length=config["teacher"]["max_length"],
        batch_size=config["teacher"]["batch_size"],
    script:
        "../scripts/encode_corpus.py"
