rule index:
    input:
        embeddings=f"{RESULTS}/encode/{TEACHER}/{{collection}}/corpus.npy",
    output:
        f"{RESULTS}/index/{TEACHER}/{{collection}}/flat_ip.faiss",
    log:
        f"{RESULTS}/logs/index/{TEACHER}/{{collection}}.log",
    benchmark:
        f"{RESULTS}/timings/index/{TEACHER}/{{collection}}.tsv"
    conda:
        "../../envs/torch.yaml"
    threads: 1
    script:
        "../scripts/build_index.py"
