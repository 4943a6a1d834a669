# First, before any other import: in a --use-conda job this takes off sys.path what Snakemake's script
# preamble appended from the host, so every later import comes from the job's env (swimscale.jobs).
from swimscale.jobs import isolate_job_imports

isolate_job_imports()

from pathlib import Path

from swimscale.config import TeacherSettings
from swimscale.jobs import checked_job
from swimscale.model import load_tokenizer
from swimscale.moderators import moderator_row, read_scripts, write_table

with checked_job(snakemake):
    teacher = TeacherSettings.from_params(snakemake.params.teacher).model
    tokenizer = load_tokenizer(teacher)
    scripts = read_scripts(Path(snakemake.input.languages[0]) if snakemake.input.languages else None)
    rows = [
        moderator_row(tokenizer, teacher, language, benchmark, Path(queries), Path(metrics), scripts)
        for language, benchmark, queries, metrics in snakemake.params.units
    ]
    write_table(rows, Path(snakemake.output.table))
    for row in rows:
        print(f"{row['language']} {row['benchmark']}: fertility {row['fertility']:.3f}, [UNK] {row['unk_rate']:.4f}, "
              f"script {row['script'] or '?'} (detected {row['script_detected'] or '?'}), "
              f"N = 0 Recall@50 {row['zero_shot_recall_at_50']:.4f}")
