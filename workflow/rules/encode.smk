rule encode_corpus:
    input:
        corpus=lambda wc: LAYOUT.collection_files(wc.collection)["corpus"],
        model=TEACHER_FILES,
    output:
        **LAYOUT.encoding("{collection}"),  # embeddings, docids
    log:
        LAYOUT.logs.encode_corpus("{collection}"),
    benchmark:
        LAYOUT.timings.encode_corpus("{collection}")
    conda:
        TORCH_ENV
    threads: 2
    # gpu=1: without a usable CUDA device the job stops and says why, unless allow_cpu is set.
    # Memory and disk: mDPR on a 200k-passage corpus needs ~3.7 GB and ~0.6 GB (docs/full_study.md).
    resources:
        gpu=1,
        mem_mb=6000,
        disk_mb=2000,
    params:
        # A dict, which Snakemake does not format: the passage format's {title} and {text} are not
        # read as wildcards.
        teacher=SETTINGS.teacher.to_params(),
    script:
        "../scripts/encode_corpus.py"
