# The frozen teacher's states of a language's validated pool, once per (language, teacher): every
# training job of the language that reads them (train.teacher_tokens: language, or auto in a GPU study
# for a capped pool within train.teacher_cache_gib: swimscale.plan.language_states) holds its own
# records' rows on its device instead of running the teacher (swimscale.model._teacher_states).
from swimscale.plan import language_states_files, teacher_states_input

# The train rule's input function: {"teacher_states": the language's file} for a job that reads it.
TEACHER_STATES_INPUT = teacher_states_input(config, LAYOUT)


rule teacher_states:
    input:
        pool=LAYOUT.validated_pool("{language}"),
        model=TEACHER_FILES,
    output:
        LAYOUT.teacher_states("{language}"),
    log:
        LAYOUT.logs.teacher_states("{language}"),
    benchmark:
        LAYOUT.timings.teacher_states("{language}")
    conda:
        TORCH_ENV
    threads: 1
    # Host memory: the pool's states twice (per record, then joined) besides the model.
    resources:
        gpu=1,
        mem_mb=lambda wc: int(6000 + 2 * 1024 * config["train"]["teacher_cache_gib"]),
        disk_mb=lambda wc: int(1024 * config["train"]["teacher_cache_gib"]),
    params:
        teacher=SETTINGS.teacher.to_params(),
    script:
        "../scripts/teacher_states.py"
