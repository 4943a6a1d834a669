rule index:
    input:
        embeddings=LAYOUT.encoding("{collection}")["embeddings"],
    output:
        LAYOUT.index("{collection}"),
    log:
        LAYOUT.logs.index("{collection}"),
    benchmark:
        LAYOUT.timings.index("{collection}")
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
