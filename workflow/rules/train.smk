rule teacher_tokens:
    input:
        subsample_files,
        model=teacher_model_files,
    output:
        f"{RESULTS}/train/teacher_tokens/{TEACHER}/{{language}}.safetensors",
    log:
        f"{RESULTS}/logs/train/teacher_tokens/{TEACHER}/{{language}}.log",
    benchmark:
        f"{RESULTS}/timings/train/teacher_tokens/{TEACHER}/{{language}}.tsv"
    conda:
        TORCH_ENV
    threads: 2
    resources:
        mem_mb=6000,
    params:
        teacher=config["teacher"]["model"],
        pooling=config["teacher"]["pooling"],
        max_length=config["train"]["max_length"],
        batch_size=config["teacher"]["batch_size"],
    script:
        "../scripts/teacher_tokens.py"


rule train:
    input:
        sample=f"{RESULTS}/subsample/{{language}}/seed{{seed}}/n{{size}}.jsonl",
        teacher_tokens=f"{RESULTS}/train/teacher_tokens/{TEACHER}/{{language}}.safetensors",
        model=teacher_model_files,
    output:
        student=f"{RESULTS}/train/{{language}}/{{method}}/seed{{seed}}/n{{size}}/student.safetensors",
        train_log=f"{RESULTS}/train/{{language}}/{{method}}/seed{{seed}}/n{{size}}/train_log.json",
    log:
        f"{RESULTS}/logs/train/{{language}}/{{method}}/seed{{seed}}/n{{size}}.log",
    benchmark:
        f"{RESULTS}/timings/train/{{language}}/{{method}}/seed{{seed}}/n{{size}}.tsv"
    conda:
        TORCH_ENV
    threads: 2
    # A re-run resumes from the job's checkpoint. With `--retries` (set in profiles/), each retry
    # halves the micro-batch (gradient accumulation keeps the update, up to float rounding and
    # dropout draws) and adds memory: the answer to running out of GPU or host memory.
    resources:
        gpu=1,
        mem_mb=lambda wc, attempt: 6000 * attempt,
        micro_batch=lambda wc, attempt: max(
            1, config["train"]["batch_size"] // 2 ** (attempt - 1)
        ),
    params:
        teacher=config["teacher"]["model"],
        pooling=config["teacher"]["pooling"],
        train=config["train"],
        checkpoint=lambda wc: f"{RESULTS}/train/{wc.language}/{wc.method}/seed{wc.seed}/n{wc.size}/checkpoint.pt",
        checkpoint_every=config["checkpoint_every"],
    script:
        "../scripts/train.py"
