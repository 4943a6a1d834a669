rule search_zero_shot:
    input:
        queries=lambda wc: benchmark_files(wc.benchmark)["queries"],
        index=lambda wc: f"{RESULTS}/index/{TEACHER}/{collection_of(wc.benchmark)}/flat_ip.faiss",
        docids=lambda wc: f"{RESULTS}/encode/{TEACHER}/{collection_of(wc.benchmark)}/docids.txt",
        model=teacher_model_files,
    output:
        f"{RESULTS}/search/{{benchmark}}/{{language}}/zero_shot.trec",
    log:
        f"{RESULTS}/logs/search/{{benchmark}}/{{language}}/zero_shot.log",
    benchmark:
        f"{RESULTS}/timings/search/{{benchmark}}/{{language}}/zero_shot.tsv"
    conda:
        TORCH_ENV
    threads: 1
    resources:
        mem_mb=4000,
    params:
        teacher=config["teacher"]["model"],
        pooling=config["teacher"]["pooling"],
        max_length=config["teacher"]["max_length"],
        batch_size=config["teacher"]["batch_size"],
        k=config["search"]["k"],
        tag="zero_shot",
    script:
        "../scripts/search.py"


rule search_student:
    input:
        queries=lambda wc: benchmark_files(wc.benchmark)["queries"],
        index=lambda wc: f"{RESULTS}/index/{TEACHER}/{collection_of(wc.benchmark)}/flat_ip.faiss",
        docids=lambda wc: f"{RESULTS}/encode/{TEACHER}/{collection_of(wc.benchmark)}/docids.txt",
        model=teacher_model_files,
        student=f"{RESULTS}/train/{{language}}/{{method}}/seed{{seed}}/n{{size}}/student.safetensors",
    output:
        f"{RESULTS}/search/{{benchmark}}/{{language}}/{{method}}/seed{{seed}}/n{{size}}.trec",
    log:
        f"{RESULTS}/logs/search/{{benchmark}}/{{language}}/{{method}}/seed{{seed}}/n{{size}}.log",
    benchmark:
        f"{RESULTS}/timings/search/{{benchmark}}/{{language}}/{{method}}/seed{{seed}}/n{{size}}.tsv"
    conda:
        TORCH_ENV
    threads: 1
    resources:
        mem_mb=4000,
    params:
        teacher=config["teacher"]["model"],
        pooling=config["teacher"]["pooling"],
        max_length=config["teacher"]["max_length"],
        batch_size=config["teacher"]["batch_size"],
        k=config["search"]["k"],
        tag=lambda wc: f"{wc.method}_seed{wc.seed}_n{wc.size}",
    script:
        "../scripts/search.py"
