"""The cluster and workstation profiles, without a cluster: their keys, the rules they name, what
Snakemake makes of them (dry runs), the CI overlay, and the per-language targets. The real SLURM run
is .ci/slurm_e2e.sh."""

import importlib.util
import re
from pathlib import Path

import pytest
import snakemake_executor_plugin_slurm  # noqa: F401  (a test extra: its absence fails here, it is never skipped)
import yaml

ROOT = Path(__file__).resolve().parents[2]
SLURM = ROOT / "profiles" / "slurm" / "config.yaml"
LOCAL = ROOT / "profiles" / "local" / "config.yaml"


def rule_names():
    names = set()
    for smk in (ROOT / "workflow" / "rules").glob("*.smk"):
        names.update(re.findall(r"^rule (\w+):", smk.read_text(), flags=re.M))
    return names


@pytest.fixture
def dry_run(tmp_path, snakemake):
    """The dry run's output on the tiny config; `args` after -n (a profile sets the cores)."""

    def run(*args):
        result = snakemake(tmp_path, "-n", *args, cores=None, timeout=300)
        assert result.returncode == 0, result.output[-6000:]
        return result.output

    return run


def job_resources(output, rule):
    """{resource: value} of every job of `rule` in a dry run's output."""
    jobs = []
    for block in output.split("\nrule ")[1:]:
        if block.startswith(f"{rule}:"):
            line = next(line for line in block.splitlines() if line.strip().startswith("resources:"))
            jobs.append(dict(item.split("=", 1) for item in line.split(":", 1)[1].strip().split(", ")))
    return jobs


def test_profiles_name_only_rules_that_exist():
    rules = rule_names()
    for profile in (SLURM, LOCAL):
        settings = yaml.safe_load(profile.read_text())
        for key in ("set-resources", "set-threads"):
            unknown = set(settings.get(key, {})) - rules
            assert not unknown, f"{profile}: {key} names unknown rules {unknown}"


def test_slurm_profile_keys():
    settings = yaml.safe_load(SLURM.read_text())
    assert settings["executor"] == "slurm"
    assert settings["retries"] >= 1 and settings["latency-wait"] >= 30
    assert settings["rerun-incomplete"] is True and settings["keep-going"] is True
    for rule in ("train", "query_states", "encode_corpus", "search_zero_shot", "search_student"):
        assert settings["set-threads"][rule] >= 1
    for rule in ("train", "encode_corpus"):
        assert settings["set-resources"][rule]["gpu"] == 1
    # train's memory and time grow with the attempt (its micro-batch halves: workflow/rules/train.smk)
    train = settings["set-resources"]["train"]
    assert [eval(str(train["mem_mb"]), {"attempt": a}) for a in (1, 2, 3)] == [16000, 32000, 48000]
    assert [eval(str(train["runtime"]), {"attempt": a}) for a in (1, 2)] == [240, 480]
    assert "slurm-status-command: squeue" in SLURM.read_text()  # documented for clusters without accounting


def test_local_profile_keys():
    settings = yaml.safe_load(LOCAL.read_text())
    assert settings["cores"] == 8 and settings["resources"] == {"gpu": 1}
    assert settings["retries"] >= 1 and settings["rerun-incomplete"] and settings["keep-going"]


def test_slurm_profile_dry_run_gives_each_rule_its_resources(dry_run):
    output = dry_run("--profile", str(ROOT / "profiles" / "slurm"))
    (train, *_) = job_resources(output, "train")
    assert (train["gpu"], train["mem_mb"], train["runtime"], train["micro_batch"]) == ("1", "16000", "240", "16")
    encodes = job_resources(output, "encode_corpus")  # the test and the dev collection
    assert len(encodes) == 2 and all((e["gpu"], e["mem_mb"]) == ("1", "32000") for e in encodes)
    (validate,) = job_resources(output, "validate")
    assert validate["mem_mb"] == "2000" and "gpu" not in validate  # the rule's own (docs/full_study.md)


def test_local_profile_dry_run(dry_run):
    output = dry_run("--profile", str(ROOT / "profiles" / "local"))
    (train, *_) = job_resources(output, "train")
    assert train["gpu"] == "1" and train["micro_batch"] == "16"


def test_ci_overlay_changes_single_entries_and_keeps_the_rest(tmp_path):
    spec = importlib.util.spec_from_file_location("layer_profile", ROOT / ".ci" / "layer_profile.py")
    layer = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(layer)
    layer.main(str(ROOT / "profiles" / "slurm"), str(ROOT / ".ci" / "slurm-ci.yaml"), str(tmp_path / "ci"))
    base = yaml.safe_load(SLURM.read_text())
    merged = yaml.safe_load((tmp_path / "ci" / "config.yaml").read_text())
    assert merged["executor"] == "slurm" and merged["retries"] == base["retries"]
    assert merged["slurm-status-command"] == "squeue"
    for rule in ("train", "encode_corpus"):
        assert merged["set-resources"][rule]["gpu"] == 0
    assert set(merged["set-resources"]) == set(base["set-resources"])
    assert all(threads <= 2 for threads in merged["set-threads"].values())


def test_per_language_target_runs_the_language_up_to_its_evaluation(dry_run):
    output = dry_run("all_ny")
    jobs = dict(re.findall(r"^(\w+)\s+(\d+)$", output.split("Job stats:")[1].split("Reasons")[0], flags=re.M))
    # Four arms x two sizes: eight students, each searched and evaluated in one job, and the zero-shot run.
    assert (jobs["train"], jobs["search_student"], jobs["search_zero_shot"]) == ("8", "8", "1")
    assert "correlate" not in jobs and "evaluate" not in jobs
