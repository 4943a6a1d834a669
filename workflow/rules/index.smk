rule index:
    input:
        embeddings=f"{RESULTS}/encode/{TEACHER}/{{benchmark}}/corpus.npy",
    output:
        f"{RESULTS}/index/{TEACHER}/{{benchmark}}/flat_ip.faiss",
    log:
        f"{RESULTS}/logs/index/{TEACHER}/{{benchmark}}.log",
    benchmark:
        f"{RESULTS}/timings/index/{TEACHER}/{{benchmark}}.tsv"
    conda:
        TORCH_ENV
    threads: 1
    script:
        "../scripts/build_index.py"
