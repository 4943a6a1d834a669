"""students_per_job: one training job trains several students one after another, each equal to the
student of a job of its own (train_log but its timings, run and metrics files byte for byte, the later
students trained after the first in one process too, whatever their method); asking for one student's
file runs its whole job; a job that fails after its first student, run again, restores that student
instead of training it again; and the dry runs: the jobs of each mode, a `language` job's outputs (every
method's) and its memory (its largest sample's teacher states on top of a student's)."""

import json
import re
import shutil
from pathlib import Path

import pytest
import yaml

# Timings: the only entries of a training log that differ between two runs of the same student.
TIMINGS = {"setup_seconds", "step_seconds", "dev_seconds", "train_seconds", "examples_per_second"}
METHODS = ["optical", "contrastive"]  # a transport arm (splits its batch on a retry) and one that cannot
STUDENTS = [("0", "32"), ("0", "64")]  # (seed, N) of each method's two students, in a job's order

# Loaded in every job through PYTHONPATH (the workflow keeps a PYTHONPATH it finds after src/): the
# training job exits, once, right after it has kept its first finished student, as a job killed there.
FAIL_AFTER_FIRST = '''
import os, sys
MARKER = os.environ.get("SWIMSCALE_TEST_FAIL_ONCE")
if MARKER and sys.argv and sys.argv[0].endswith("train.py"):
    from swimscale import jobs
    _save = jobs.FinishedStudent.save
    def save_then_fail_once(self):
        _save(self)
        if not os.path.exists(MARKER):
            open(MARKER, "w").write(str(self.folder))
            os._exit(3)
    jobs.FinishedStudent.save = save_then_fail_once
'''


def study(tmp_path, tiny_config, mode, **changes):
    path = tmp_path / f"{mode}.yaml"
    path.write_text(yaml.safe_dump({**tiny_config, "methods": METHODS, "students_per_job": mode, **changes}))
    return path


def files(root: Path, method, seed, size) -> dict:
    """A student's outputs: its training log less its timings, and each run and metrics file's bytes."""
    log = json.loads((root / f"results/train/ny/{method}/seed{seed}/n{size}/train_log.json").read_text())
    found = {"log": {key: value for key, value in log.items() if key not in TIMINGS}}
    for folder in ("search", "evaluate"):
        for path in sorted((root / f"results/{folder}/ny/{method}/seed{seed}/n{size}").iterdir()):
            found[f"{folder}/{path.name}"] = path.read_bytes()
    return found


def dry_run_jobs(snakemake, tmp_path, config, *targets) -> dict[str, dict[str, str]]:
    """{rule: {field: value}} of each job of a dry run (its `output:`, `resources:` ... lines)."""
    result = snakemake(tmp_path / "dry", "-n", *targets, config=config)
    assert result.returncode == 0, result.output[-3000:]
    jobs: dict[str, dict[str, str]] = {}
    for block in re.split(r"\n(?=(?:local)?rule \S+:\n)", result.stdout):
        name = re.match(r"(?:local)?rule (\S+):\n", block)
        if name:
            fields = dict(re.findall(r"^    (\w+): (.*)$", block, re.M))
            jobs.setdefault(name.group(1), []).append(fields)
    return jobs


def resources(job: dict) -> dict[str, str]:
    return dict(item.split("=", 1) for item in job["resources"].split(", "))


@pytest.mark.parametrize("mode, jobs", [("one", {"train": 8}), ("seeds", {f"train_ny_{m}_n{n}": 1 for m in METHODS
                                                                             for n in (32, 64)}),
                                        ("sizes_and_seeds", {f"train_ny_{m}": 1 for m in METHODS}),
                                        ("language", {"train_ny": 1})])
def test_the_training_jobs_of_each_mode(snakemake, tmp_path, tiny_config, mode, jobs):
    """The tiny study with two methods and two seeds: 8 students, in 8 jobs (one), one per (method, N)
    (seeds), one per method (sizes_and_seeds), one (language). Its outputs: every file of every student,
    every method's; its log and timing under train/<language>/."""
    config = study(tmp_path, tiny_config, mode, seeds=[0, 1])
    found = dry_run_jobs(snakemake, tmp_path, config, "all")
    assert {rule: len(runs) for rule, runs in found.items() if rule.startswith("train")} == jobs
    assert len(found["evaluate"]) == 8 * 1  # a metrics job per student and test benchmark, whatever the mode
    if mode == "language":
        (job,) = found["train_ny"]
        outputs = set(job["output"].split(", "))
        assert outputs == {f"results/{kind}/ny/{method}/seed{seed}/n{size}{suffix}"
                           for method in METHODS for seed in (0, 1) for size in (32, 64)
                           for kind, suffix in (("train", "/student.safetensors"), ("train", "/train_log.json"),
                                                ("search", ""))}
        assert job["log"] == "results/logs/train/ny/students.log"
        assert job["benchmark"] == "results/timings/train/ny/students.tsv"
        assert set(job["input"].split(", ")) >= {f"results/subsample/ny/seed{s}/n{n}.jsonl" for s in (0, 1)
                                                 for n in (32, 64)}
        assert resources(job)["attempt"] == "1" and "micro_batch" not in resources(job)  # per student: the script's


def train_mem_mb(snakemake, tmp_path, config, rule) -> int:
    (job,) = dry_run_jobs(snakemake, tmp_path, config, "all")[rule]
    return int(resources(job)["mem_mb"])


def test_a_group_jobs_memory_holds_its_largest_samples_teacher_states(snakemake, tmp_path, tiny_config):
    """A group job's memory: a student's (9,000 MB) plus the teacher's states of its largest sample as the
    plan estimates them, for mDPR whatever the teacher (bf16 token states of 133 word pieces of 768 dims
    a pair for a token-reading arm, two float32 pooled vectors a pair for every arm; rounded up to MB): it grows with the job's largest N,
    and counts the tokens when one of its students reads them."""
    token, pooled = 133 * 768 * 2 + 8 * 768, 8 * 768  # bytes a pair (a dry run reads no sample)

    def mem(mode, rule, sizes, methods=METHODS, train=None, **pool):
        pools = {"ny": {**tiny_config["pools"]["ny"], **pool}}
        config = study(tmp_path, tiny_config, mode, sizes=[0, *sizes], methods=methods, pools=pools,
                       train={**tiny_config.get("train", {}), **(train or {})})
        return train_mem_mb(snakemake, tmp_path, config, rule)

    assert mem("language", "train_ny", [32, 64]) == 9000 + -(-64 * token // 10**6)
    assert mem("language", "train_ny", [32, 64, 9000]) == 9000 + -(-9000 * token // 10**6)  # the largest N
    assert mem("language", "train_ny", [9000], ["pooled", "contrastive"]) == 9000 + -(-9000 * pooled // 10**6)
    assert mem("seeds", "train_ny_contrastive_n9000", [64, 9000]) == 9000 + -(-9000 * pooled // 10**6)
    assert mem("sizes_and_seeds", "train_ny_optical", [64, 9000]) == 9000 + -(-9000 * token // 10**6)
    # A capped pool's size above the pool's pairs trains on the pool: the plan's ~5,800 pairs.
    assert mem("language", "train_ny", [9000], cap_sizes=True) == 9000 + -(-5800 * token // 10**6)
    # Beyond train.teacher_host_gib the job holds no states of its own: a run's, within teacher_cache_gib
    small = {"teacher_host_gib": 0.001, "teacher_cache_gib": 0.5}
    assert mem("language", "train_ny", [9000], train=small) == 9000 + -(-(2**29) // 10**6)


def copy_inputs(source: Path, target: Path) -> None:
    for sub in ("prepare", "validate", "subsample", "encode", "index", "query_states"):  # the same inputs
        shutil.copytree(source / "results" / sub, target / "results" / sub)


def student_log(root: Path, method, seed, size) -> dict:
    return json.loads((root / f"results/train/ny/{method}/seed{seed}/n{size}/train_log.json").read_text())


@pytest.mark.e2e
def test_a_job_of_several_students_equals_a_job_each_and_keeps_what_it_finished(tmp_path, tiny_config, snakemake):
    alone, grouped, language = tmp_path / "alone", tmp_path / "grouped", tmp_path / "language"
    targets = {method: [f"results/train/ny/{method}/seed{seed}/n{size}/train_log.json" for seed, size in STUDENTS]
               for method in METHODS}
    scored = {method: [f"results/evaluate/ny/{method}/seed{seed}/n{size}" for seed, size in STUDENTS]
              for method in METHODS}  # evaluate's
    everything = [path for method in METHODS for path in targets[method] + scored[method]]
    first = snakemake(alone, *everything, config=study(tmp_path, tiny_config, "one"))
    assert first.returncode == 0, first.output[-3000:]
    copy_inputs(alone, grouped)
    (tmp_path / "inject").mkdir()
    (tmp_path / "inject" / "sitecustomize.py").write_text(FAIL_AFTER_FIRST)
    inject = {"PYTHONPATH": str(tmp_path / "inject"), "SWIMSCALE_TEST_FAIL_ONCE": str(tmp_path / "failed_once")}
    config = study(tmp_path, tiny_config, "sizes_and_seeds")
    # One student's file asked for: its job (every N and seed of ny x optical) runs, and fails after the first.
    failed = snakemake(grouped, targets["optical"][1], config=config, env=inject)
    assert failed.returncode != 0 and (tmp_path / "failed_once").exists(), failed.output[-3000:]
    first_student = grouped / "results/train/ny/optical/seed0/n32"
    assert not (first_student / "train_log.json").exists()  # Snakemake deleted the failed job's outputs...
    assert (first_student / "finished" / "train_log").exists()  # ... but not the copy of the first

    again = snakemake(grouped, targets["optical"][1], *scored["optical"], config=config)
    assert again.returncode == 0, again.output[-3000:]
    log = (grouped / "results/logs/train/ny/optical/students.log").read_text()
    assert log.count("seed 0 N 32 (1 of 2): restored") == 1 and "seed 0 N 32 (1 of 2): training" not in log
    assert log.count(" updates (") == 1  # the second student alone was trained
    assert not (first_student / "finished").exists()  # the job ended: its copies are gone
    for seed, size in STUDENTS:  # both students, each equal to the student of its own job
        assert files(grouped, "optical", seed, size) == files(alone, "optical", seed, size), (seed, size)
    assert (grouped / "results/train/ny/optical/seed0/n32/train_log.json.sidecar.json").exists()

    # students_per_job: language — one job trains every method's students, seed by seed, then N, then
    # method, each after the others in one process, each equal to the student of its own job.
    copy_inputs(alone, language)
    config = study(tmp_path, tiny_config, "language")
    whole = snakemake(language, *everything, config=config)
    assert whole.returncode == 0, whole.output[-3000:]
    log = (language / "results/logs/train/ny/students.log").read_text()
    order = ["optical seed 0 N 32 (1 of 4)", "contrastive seed 0 N 32 (2 of 4)", "optical seed 0 N 64 (3 of 4)",
             "contrastive seed 0 N 64 (4 of 4)"]
    assert re.findall(r"^(\w+ seed \d+ N \d+ \(\d of 4\)): training$", log, re.M) == order
    assert log.count(" updates (") == 4 and "restored" not in log
    for method in METHODS:
        for seed, size in STUDENTS:
            assert files(language, method, seed, size) == files(alone, method, seed, size), (method, seed, size)

    # One student's file deleted: the job runs again whole. Run as a retry (attempt 2), it fails after its
    # first student, then restores it and trains the others: each student's micro-batch is its own
    # method's at that attempt (optical's halved, contrastive's never split).
    (language / targets["contrastive"][1]).unlink()
    retry = ["--set-resources", "train_ny:attempt=2", "--"]
    inject["SWIMSCALE_TEST_FAIL_ONCE"] = str(tmp_path / "language_failed_once")
    failed = snakemake(language, *retry, *everything, config=config, env=inject)
    assert failed.returncode != 0 and (tmp_path / "language_failed_once").exists(), failed.output[-3000:]
    assert not (language / targets["contrastive"][0]).exists()  # the job's other students' files: gone too
    again = snakemake(language, *retry, *everything, config=config)
    assert again.returncode == 0, again.output[-3000:]
    log = (language / "results/logs/train/ny/students.log").read_text()
    assert log.count("optical seed 0 N 32 (1 of 4): restored") == 1 and log.count(" updates (") == 3
    for method, micro, steps in (("optical", 8, 2), ("contrastive", 16, 1)):
        for seed, size in STUDENTS:
            trained = student_log(language, method, seed, size)
            assert (trained["micro_batch_size"], trained["accumulation_steps"]) == (micro, steps), (method, size)
    for seed, size in STUDENTS:  # the unsplit batch: the same students as their own jobs'
        assert files(language, "contrastive", seed, size) == files(alone, "contrastive", seed, size), (seed, size)
