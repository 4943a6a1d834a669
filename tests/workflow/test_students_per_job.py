"""students_per_job: one training job trains several students one after another, each equal to the
student of a job of its own (train_log but its timings, run and metrics files byte for byte, the second
student trained after the first in one process too); asking for one student's file runs its whole job;
and a job that fails after its first student, run again, restores that student instead of training it
again."""

import json
import shutil
from pathlib import Path

import pytest
import yaml

# Timings: the only entries of a training log that differ between two runs of the same student.
TIMINGS = {"setup_seconds", "step_seconds", "dev_seconds", "train_seconds", "examples_per_second"}
STUDENTS = [("0", "32"), ("0", "64")]  # (seed, N) of the one method's two students, in the job's order

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


def study(tmp_path, tiny_config, mode):
    path = tmp_path / f"{mode}.yaml"
    path.write_text(yaml.safe_dump({**tiny_config, "methods": ["optical"], "students_per_job": mode}))
    return path


def files(root: Path, seed, size) -> dict:
    """A student's outputs: its training log less its timings, and each run and metrics file's bytes."""
    log = json.loads((root / f"results/train/ny/optical/seed{seed}/n{size}/train_log.json").read_text())
    found = {"log": {key: value for key, value in log.items() if key not in TIMINGS}}
    for folder in ("search", "evaluate"):
        for path in sorted((root / f"results/{folder}/ny/optical/seed{seed}/n{size}").iterdir()):
            found[f"{folder}/{path.name}"] = path.read_bytes()
    return found


@pytest.mark.e2e
def test_a_job_of_several_students_equals_a_job_each_and_keeps_what_it_finished(tmp_path, tiny_config, snakemake):
    alone, grouped = tmp_path / "alone", tmp_path / "grouped"
    targets = [f"results/train/ny/optical/seed{seed}/n{size}/train_log.json" for seed, size in STUDENTS]
    first = snakemake(alone, *targets, config=study(tmp_path, tiny_config, "one"))
    assert first.returncode == 0, first.output[-3000:]
    for sub in ("prepare", "validate", "subsample", "encode", "index", "query_states"):  # the same inputs
        shutil.copytree(alone / "results" / sub, grouped / "results" / sub)
    (tmp_path / "inject").mkdir()
    (tmp_path / "inject" / "sitecustomize.py").write_text(FAIL_AFTER_FIRST)
    marker = tmp_path / "failed_once"
    config = study(tmp_path, tiny_config, "sizes_and_seeds")
    # One student's file asked for: its job (every N and seed of ny x optical) runs, and fails after the first.
    failed = snakemake(grouped, targets[1], config=config,
                       env={"PYTHONPATH": str(tmp_path / "inject"), "SWIMSCALE_TEST_FAIL_ONCE": str(marker)})
    assert failed.returncode != 0 and marker.exists(), failed.output[-3000:]
    first_student = grouped / "results/train/ny/optical/seed0/n32"
    assert not (first_student / "train_log.json").exists()  # Snakemake deleted the failed job's outputs...
    assert (first_student / "finished" / "train_log").exists()  # ... but not the copy of the first

    again = snakemake(grouped, targets[1], config=config)
    assert again.returncode == 0, again.output[-3000:]
    log = (grouped / "results/logs/train/ny/optical/students.log").read_text()
    assert log.count("seed 0 N 32 (1 of 2): restored") == 1 and "seed 0 N 32 (1 of 2): training" not in log
    assert log.count(" updates (") == 1  # the second student alone was trained
    assert not (first_student / "finished").exists()  # the job ended: its copies are gone
    for seed, size in STUDENTS:  # both students, each equal to the student of its own job
        assert files(grouped, seed, size) == files(alone, seed, size), (seed, size)
    assert (grouped / "results/train/ny/optical/seed0/n32/train_log.json.sidecar.json").exists()

    # Run whole, the job trains its second student after the first, in the process that trained the first.
    whole = snakemake(grouped, "--forcerun", "train_ny_optical", "--", targets[0], config=config)
    assert whole.returncode == 0, whole.output[-3000:]
    log = (grouped / "results/logs/train/ny/optical/students.log").read_text()
    assert log.count(" updates (") == 2 and "restored" not in log
    for seed, size in STUDENTS:
        assert files(grouped, seed, size) == files(alone, seed, size), (seed, size)
