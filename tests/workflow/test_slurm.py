"""The cluster and workstation profiles, without a cluster: their keys, the rules they name, what
Snakemake makes of them (dry runs: resources, group jobs), the CI overlay, and the per-language
targets. The real SLURM run is .ci/slurm_e2e.sh."""

import importlib.util
import json
import re
import sys
from pathlib import Path

import pytest
import snakemake_executor_plugin_slurm  # noqa: F401  (a test extra: its absence fails here, it is never skipped)
import yaml

ROOT = Path(__file__).resolve().parents[2]
SLURM = ROOT / "profiles" / "slurm" / "config.yaml"
LOCAL = ROOT / "profiles" / "local" / "config.yaml"
STUDENT = "student_{language}_seed{seed}"


def cluster_jobs():
    """tools/cluster_jobs.py as a module (registered first: its dataclass looks its module up)."""
    spec = importlib.util.spec_from_file_location("cluster_jobs", ROOT / "tools" / "cluster_jobs.py")
    module = sys.modules.setdefault("cluster_jobs", importlib.util.module_from_spec(spec))
    spec.loader.exec_module(module)
    return module


def rule_names():
    names = set()
    for smk in (ROOT / "workflow" / "rules").glob("*.smk"):
        names.update(re.findall(r"^\s*rule (\w+):", smk.read_text(), flags=re.M))  # train.smk: inside an if
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
    """{resource: value} of every job of `rule` in a dry run's output, inside group jobs too."""
    jobs = []
    for match in re.finditer(rf"^( *)rule {rule}:\n((?:\1    .*\n)+)", output, flags=re.M):
        line = next(line for line in match.group(2).splitlines() if line.strip().startswith("resources:"))
        jobs.append(dict(item.split("=", 1) for item in line.split(":", 1)[1].strip().split(", ")))
    return jobs


def test_profiles_name_only_rules_that_exist():
    rules = rule_names()
    for profile in (SLURM, LOCAL):
        settings = yaml.safe_load(profile.read_text())
        for key in ("set-resources", "set-threads", "groups"):
            unknown = set(settings.get(key, {})) - rules
            assert not unknown, f"{profile}: {key} names unknown rules {unknown}"


def test_slurm_profile_keys():
    settings = yaml.safe_load(SLURM.read_text())
    assert settings["executor"] == "slurm"
    assert settings["retries"] >= 1 and settings["latency-wait"] >= 30
    assert settings["rerun-incomplete"] is True and settings["keep-going"] is True
    for rule in ("train", "query_states", "encode_corpus", "search_zero_shot"):
        assert settings["set-threads"][rule] >= 1
    for rule in ("train", "encode_corpus"):
        assert settings["set-resources"][rule]["gpu"] == 1
    # train's memory and time grow with the attempt (its micro-batch halves: workflow/rules/train.smk)
    train = settings["set-resources"]["train"]
    assert [eval(str(train["mem_mb"]), {"attempt": a}) for a in (1, 2, 3)] == [16000, 32000, 48000]
    assert [eval(str(train["runtime"]), {"attempt": a}) for a in (1, 2)] == [240, 480]
    assert "slurm-status-command: squeue" in SLURM.read_text()  # documented for clusters without accounting


def test_slurm_profile_groups_short_jobs_with_their_training_and_batches_the_rest():
    settings = yaml.safe_load(SLURM.read_text())
    groups = settings["groups"]
    # A sample and the students trained on it (each searched in its training job) travel together, per
    # language and seed.
    assert groups["subsample"] == groups["train"] == STUDENT
    assert {groups[r] for r in ("prepare_pool", "prepare_benchmark", "validate", "query_states")} == {"data"}
    assert groups["encode_corpus"] == groups["index"] == "collection"
    assert set(settings["group-components"]) <= set(groups.values())
    assert settings["group-components"][STUDENT] >= 2  # sizes per submission: 633 samples would be too many
    # One GPU per submission, taken in turn by a group's GPU jobs; no group asks for more CPUs than `cores`.
    assert settings["set-resource-scopes"] == {"gpu": "local"} and settings["resources"] == {"gpu": 1}
    assert max(settings["set-threads"].values()) <= settings["cores"]


def test_local_profile_keys():
    settings = yaml.safe_load(LOCAL.read_text())
    assert settings["cores"] == 8 and settings["resources"] == {"gpu": 1}
    assert "groups" not in settings and "group-components" not in settings  # local runs are not grouped
    assert settings["retries"] >= 1 and settings["rerun-incomplete"] and settings["keep-going"]


def test_slurm_profile_dry_run_gives_each_rule_its_resources(dry_run):
    output = dry_run("--profile", str(ROOT / "profiles" / "slurm"))
    (train, *_) = job_resources(output, "train")
    assert (train["gpu"], train["mem_mb"], train["runtime"], train["micro_batch"]) == ("1", "16000", "240", "16")
    encodes = job_resources(output, "encode_corpus")  # the test and the dev collection
    assert len(encodes) == 2 and all((e["gpu"], e["mem_mb"]) == ("1", "32000") for e in encodes)
    (validate,) = job_resources(output, "validate")
    assert validate["mem_mb"] == "2000" and "gpu" not in validate  # the rule's own (docs/full_study.md)


def test_slurm_profile_dry_run_plans_six_submissions_for_the_tiny_study(dry_run):
    counts = cluster_jobs().parse(dry_run("--profile", str(ROOT / "profiles" / "slurm")), cluster_jobs().local_rules())
    # The language's data (prepare_bible, validate, the two benchmarks' query states), the test
    # collection's encoding with its index and the dev collection's encoding (dev recall is computed in
    # the training job), the zero-shot search, and one student group holding both sizes (32, 64): their
    # samples and the 4 methods' students, each searched in its training job; correlate alone; `all`,
    # missing_runs, moderator_values and the evaluate jobs that score the runs (8 students, 1 at N = 0) local.
    assert counts.group_kinds == {"prepare_bible+query_states+validate": 1, "encode_corpus+index": 1,
                                  "encode_corpus": 1, "search_zero_shot": 1, "subsample+train": 1}
    assert counts.jobs_in_groups["train"] == 8 and counts.jobs_in_groups["subsample"] == 2
    assert counts.ungrouped == {"correlate": 1} and counts.local == {
        "all": 1, "missing_runs": 1, "moderator_values": 1, "evaluate": 8, "evaluate_zero_shot": 1}
    assert (counts.submissions, counts.total_jobs) == (6, 31)


def test_local_profile_dry_run(dry_run):
    output = dry_run("--profile", str(ROOT / "profiles" / "local"))
    (train, *_) = job_resources(output, "train")
    assert train["gpu"] == "1" and train["micro_batch"] == "16"
    assert "Group job" not in output  # the local profile groups nothing


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
    # Four arms x two sizes: eight students, each searched in its training job and scored by an evaluate
    # job, and the zero-shot run with its own; not the tables.
    assert (jobs["train"], jobs["search_zero_shot"]) == ("8", "1") and "search_student" not in jobs
    assert (jobs["evaluate"], jobs["evaluate_zero_shot"]) == ("8", "1") and "correlate" not in jobs


LISTING = """Building DAG of jobs...
Job stats:
job          count
---------  -------
all              1
correlate        1
search           2
train            2
total            6

rule prep:
    output: a.txt
    jobid: 5
Group job student_ny_seed0 (jobs in lexicogr. order):

    rule search:
        input: s1
        output: r1
        jobid: 3

    rule train:
        input: a.txt
        output: s1
        jobid: 1
Group job student_ny_seed0 (jobs in lexicogr. order):

    rule search:
        output: r2

    rule train:
        output: s2

rule correlate:
    input: r1, r2
    output: t.tsv

rule all:
    input: t.tsv
    jobid: 0
"""


def test_cluster_jobs_counts_group_jobs_and_ungrouped_jobs_and_leaves_local_ones_out():
    tool = cluster_jobs()
    listing = LISTING.replace("all              1\ncorrelate", "all              1\nprep             1\ncorrelate")
    listing = listing.replace("total            6", "total            7")
    counts = tool.parse(listing, local={"prep"})
    assert (counts.group_jobs, counts.ungrouped_jobs, counts.submissions) == (2, 1, 3)
    assert counts.group_kinds == {"search+train": 2} and counts.jobs_in_groups == {"search": 2, "train": 2}
    assert counts.ungrouped == {"correlate": 1} and counts.local == {"prep": 1, "all": 1}  # all: no output
    written = json.loads(json.dumps(tool.as_json(counts)))  # what --json writes
    assert written["submissions"] == 3 and written["group_kinds"] == {"search+train": 2}
    # A listing whose jobs do not add up to its Job stats total is refused, not miscounted.
    with pytest.raises(ValueError, match="lists 7 jobs but its Job stats say 6"):
        tool.parse(LISTING.replace("all              1\ncorrelate", "all              1\nprep             1\ncorrelate"),
                   local={"prep"})


def test_cluster_jobs_reads_the_workflows_local_rules():
    assert "missing_runs" in cluster_jobs().local_rules()
