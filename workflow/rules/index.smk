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
        TORCH_ENV
    threads: 1
    # The embeddings twice (array and FAISS's copy): ~1.5 GB and ~0.6 GB on disk for 200k x 768
    # (docs/full_study.md).
    resources:
        mem_mb=3000,
        disk_mb=2000,
    params:
        teacher=SETTINGS.teacher.to_params(),
    script:
        "../scripts/build_index.py"
