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
        "../../envs/torch.yaml"
    threads: 1
    params:
        normalize=config["teacher"]["normalize"],
    script:
        "../scripts/build_index.py"
