rule encode_corpus:
    input:
        corpus=lambda wc: collection_files(wc.collection)["corpus"],
    output:
        embeddings=f"{RESULTS}/encode/{TEACHER}/{{collection}}/corpus.npy",
        docids=f"{RESULTS}/encode/{TEACHER}/{{collection}}/docids.txt",
    log:
        f"{RESULTS}/logs/encode/{TEACHER}/{{collection}}.log",
    benchmark:
        f"{RESULTS}/timings/encode/{TEACHER}/{{collection}}.tsv"
    conda:
        "../../envs/torch.yaml"
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
