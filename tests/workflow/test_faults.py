"""The fault matrix: no fault in a derived file gives a wrong answer with exit status 0.

The tiny config is run once (module fixture); each fault is injected into a copy of its results. The
kinds of derived file are enumerated from the rules -- every output the clean run's jobs wrote, by the
rule that wrote it (``snakemake --summary``) -- so a new rule's outputs are in the matrix, or the test
that every rule is covered fails. For every kind and every fault (truncated, edited in place with the
same size, emptied, a record too many, deleted) the outcome is one of two:

- the job that reads the file refuses it, in one line naming the file (the sidecar check every job
  script runs first: :func:`swimscale.jobs.checked_job`, which a test below asserts of every script);
- or Snakemake rebuilds it (a deleted file: the dry run schedules its rule).

End to end, on the real workflow: a truncated subsample fails the run naming the file and leaves the
tables as they were; a corrupt FAISS index or query-states file fails the training job before its
first update; a deleted file is rebuilt and the tables equal the clean run's; a test benchmark's qrels
edited rescores without training, or stops the evaluate job naming the file when the edit makes relevant a
document the overlap screen never saw; a second run on the same
results folder from another working directory is refused naming the holder; a write that finds no room
stops the job in one line.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import types
from pathlib import Path

import pytest
import yaml

from swimscale.formats import SidecarMismatch, check_sidecar, sidecar_path
from swimscale.formats._sidecar import files_of
from swimscale.jobs import checked_job

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = ROOT / "workflow" / "scripts"
# Rules that the tiny config (Bible sources only) runs no job of: the same sidecar check covers them (every
# script runs in checked_job), and tests/config/test_layout.py dry-runs a study with a job of each. A new
# rule must either make files in the tiny run or be named here. teacher_states runs with
# train.teacher_tokens: language (the tiny config, on CPU, precomputes per run): its file cut, edited,
# emptied or of another teacher setting is refused naming it in tests/model/test_teacher_states.py.
NOT_IN_THE_TINY_RUN = {"prepare_pool", "prepare_collection", "prepare_benchmark", "teacher_states"}
TARGETS = re.compile(r"^(all|all_[a-z]{2,3})$")  # rules with no outputs of their own


def _same_size_edit(data: bytes) -> bytes:
    """Other bytes, same size: one byte changed to another printable one (a record stays one line)."""
    i = next((i for i, b in enumerate(data) if 0x30 <= b <= 0x39 or 0x41 <= b <= 0x7a), len(data) // 2)
    changed = b"0" if data[i:i + 1] != b"0" else b"1"
    return data[:i] + changed + data[i + 1:]


def _one_record_more(data: bytes) -> bytes:
    lines = data.splitlines(keepends=True)
    return data + (lines[0] if lines and lines[0].endswith(b"\n") else b"\n" + data[:64] + b"\n")


FAULTS = {
    "truncated": lambda data: data[: len(data) // 2],
    "edited": _same_size_edit,
    "empty": lambda data: b"",
    "wrong_count": _one_record_more,
}


def summary_outputs(snakemake, workdir) -> dict[str, list[str]]:
    """{rule: the files its jobs wrote} of a finished run, from `snakemake --summary` (tab-separated:
    output_file, date, rule, ...)."""
    result = snakemake(workdir, "--summary")
    assert result.returncode == 0, result.output[-3000:]
    outputs: dict[str, list[str]] = {}
    for line in result.stdout.splitlines()[1:]:
        fields = line.split("\t")
        if len(fields) > 2 and fields[2] and fields[2] != "-":
            outputs.setdefault(fields[2], []).append(fields[0])
    return outputs


# Files that share a suffix with another output of their rule but are another kind of record: a run's
# per-query metrics and search record, the overlap screen's record beside the validate report.
COMPOUND_SUFFIXES = (".per_query.tsv", ".searched.json")
OWN_KIND = ("screened.json",)


def kinds_of(outputs: dict[str, list[str]], workdir: Path) -> dict[str, Path]:
    """{kind: one file of it}: per rule, one file of each suffix (files inside directory outputs too)."""
    kinds = {}
    for rule, paths in sorted(outputs.items()):
        for path in sorted(paths):
            full = workdir / path
            if not full.exists():  # a temp() output (a student, unless keep_students) is deleted after use
                continue
            for file in files_of(full):
                suffix = "".join(file.suffixes[-2:]) if file.name.endswith(COMPOUND_SUFFIXES) else file.suffix
                kinds.setdefault(f"{rule}:{file.name if file.name in OWN_KIND else suffix}", file)
    return kinds


def declared_of(file: Path, workdir: Path, outputs: dict[str, list[str]]) -> str:
    """The output a rule declares that holds `file` (itself, or the directory output it is in)."""
    relative = file.relative_to(workdir).as_posix()
    return next(path for paths in outputs.values() for path in paths
                if relative == path or relative.startswith(path.rstrip("/") + "/"))


@pytest.fixture(scope="module")
def clean(tmp_path_factory, snakemake):
    """The tiny config run once: its working directory, and every derived file kind it made."""
    workdir = tmp_path_factory.mktemp("clean")
    result = snakemake(workdir)
    assert result.returncode == 0, result.output[-5000:]
    outputs = summary_outputs(snakemake, workdir)
    return workdir, outputs, kinds_of(outputs, workdir)


def rules_of(snakemake, workdir) -> set[str]:
    result = snakemake(workdir, "--list-rules")
    assert result.returncode == 0, result.output[-2000:]
    return {line.strip() for line in result.stdout.splitlines() if re.fullmatch(r"\s*[A-Za-z_][\w]*\s*", line)}


def copy_of(clean_dir: Path, tmp_path: Path) -> Path:
    workdir = tmp_path / "copy"
    shutil.copytree(clean_dir, workdir, symlinks=True, ignore=shutil.ignore_patterns("locks"))
    return workdir


@pytest.mark.e2e
def test_every_rule_is_in_the_matrix(clean, snakemake):
    """The matrix's kinds come from the rules: each rule's outputs are in it (or the rule is named above)."""
    workdir, outputs, kinds = clean
    rules = {rule for rule in rules_of(snakemake, workdir) if not TARGETS.match(rule)}
    assert rules - set(outputs) == NOT_IN_THE_TINY_RUN
    assert {kind.split(":")[0] for kind in kinds} == set(outputs)
    assert len(kinds) >= 14
    # The outputs of issue 28's split: the search records, the metrics the evaluate rules write from
    # them, and the overlap screen's record that evaluation checks the judgements against.
    assert {"train:.searched.json", "train:.json", "search_zero_shot:.searched.json", "evaluate:.json",
            "evaluate:.per_query.tsv", "evaluate_zero_shot:.json", "validate:screened.json"} <= set(kinds)


@pytest.mark.e2e
def test_every_derived_file_has_a_sidecar_that_matches(clean):
    _, _, kinds = clean
    for kind, path in kinds.items():
        assert sidecar_path(path).is_file(), kind
        check_sidecar(path, "full")


@pytest.mark.e2e
@pytest.mark.parametrize("fault", FAULTS)
def test_every_kind_with_every_fault_is_refused_naming_the_file(clean, tmp_path, fault):
    """The check the reading job runs first refuses each faulted file of each kind, in one line naming it
    (or, where the fault leaves the bytes as they were -- an empty file emptied -- accepts the same file)."""
    workdir, outputs, kinds = clean
    copy = copy_of(workdir, tmp_path)
    refused = 0
    for kind, path in kinds.items():
        faulted = copy / path.relative_to(workdir)
        declared = copy / declared_of(path, workdir, outputs)  # what the reading job checks: file or folder
        data = faulted.read_bytes()
        changed = FAULTS[fault](data)
        faulted.write_bytes(changed)
        if changed == data:
            check_sidecar(declared, "auto")
            continue
        with pytest.raises(SidecarMismatch) as error:
            check_sidecar(declared, "auto")
        faulted.write_bytes(data)  # back as it was: the next kind may share its folder
        message = str(error.value)
        assert "\n" not in message and message.startswith(str(faulted)), (kind, message)
        assert f"rm '{declared}'" in message, kind
        refused += 1
    assert refused >= len(kinds) - 1


def test_every_job_script_checks_what_it_reads_and_describes_what_it_writes():
    """The sidecar check runs in every job: each script's work is inside checked_job (no bare job_log)."""
    for script in sorted(SCRIPTS.glob("*.py")):
        text = script.read_text()
        assert "with checked_job(snakemake):" in text and "job_log(" not in text, script.name


@pytest.mark.e2e
def test_deleted_files_are_scheduled_for_rebuilding(clean, tmp_path, snakemake):
    """A deleted derived file of each rule (one dry run for all): asked for (the rebuild command that a
    mismatch prints), each is scheduled for its rule. Left alone, a deleted intermediate whose dependents
    are up to date is not needed: a plain dry run then plans nothing that would change a table."""
    workdir, outputs, kinds = clean
    copy = copy_of(workdir, tmp_path)
    by_rule = {}
    for kind, path in kinds.items():
        by_rule.setdefault(kind.split(":")[0], declared_of(path, workdir, outputs))
    deleted = [copy / path for path in by_rule.values()]
    for path in deleted:
        shutil.rmtree(path) if path.is_dir() else path.unlink()
    result = snakemake(copy, *(p.relative_to(copy) for p in deleted), "-n", "--quiet", "rules")
    assert result.returncode == 0, result.output[-2000:]
    scheduled = set(re.findall(r"^(\w+)\s+\d+$", result.output, re.M))
    assert set(by_rule) <= scheduled, (set(by_rule) - scheduled, result.output[-1500:])


@pytest.mark.e2e
def test_a_truncated_subsample_fails_naming_the_file_and_keeps_the_tables(clean, tmp_path, snakemake):
    """The issue's fault: a subsample cut to fewer lines is never trained and reported at its size."""
    workdir, _, kinds = clean
    copy = copy_of(workdir, tmp_path)
    sample = kinds["subsample:.jsonl"]
    target = copy / sample.relative_to(workdir)
    lines = target.read_text().splitlines(keepends=True)
    target.write_text("".join(lines[: len(lines) - 5]))
    recall = copy / "results" / "tables" / "recall.tsv"
    before = recall.read_bytes()
    result = snakemake(copy)
    assert result.returncode != 0
    assert f"results/{sample.relative_to(workdir / 'results')}" in result.output
    assert "differs from its sidecar" in result.output
    assert recall.read_bytes() == before


@pytest.mark.e2e
@pytest.mark.parametrize("kind", ["index:.faiss", "query_states:.safetensors"])
def test_a_corrupt_search_input_fails_training_before_its_first_update(clean, tmp_path, snakemake, kind):
    """Even with a sidecar that matches (rewritten after the damage), a training job opens and checks every
    search input before its first update: it stops naming the file, with no update counted."""
    workdir, _, kinds = clean
    copy = copy_of(workdir, tmp_path)
    target = copy / kinds[kind].relative_to(workdir)
    data = target.read_bytes()
    target.write_bytes(data[: len(data) // 3])
    from swimscale.formats import write_sidecar

    write_sidecar(target)  # the record agrees: only the search-input check can catch it
    train_logs = sorted((copy / "results" / "train").rglob("train_log.json"))
    train_logs[0].unlink()  # one training job to run
    result = snakemake(copy, train_logs[0].relative_to(copy), "--allowed-rules", "train")
    assert result.returncode != 0
    assert str(target.relative_to(copy)) in result.output, result.output[-3000:]
    # Updates counted: the tiny config checkpoints after every update, and a finished job prints its count.
    student = train_logs[0].parent.relative_to(copy / "results" / "train")
    job_log = (copy / "results" / "logs" / "train" / student).with_suffix(".log")
    assert " updates (" not in job_log.read_text()
    assert not train_logs[0].exists() and not (train_logs[0].parent / "checkpoint.pt").exists()


@pytest.mark.e2e
def test_a_deleted_run_file_is_rebuilt_to_the_same_table(clean, tmp_path, snakemake):
    """A deleted file is rebuilt when a job that reads it runs, and the table equals the clean run's
    (timings aside): here the zero-shot metrics (evaluate_zero_shot), read by correlate, whose table is gone
    too. (A deleted intermediate that no job has to read again is left alone: the tables stay as they are.)"""
    workdir, _, kinds = clean
    copy = copy_of(workdir, tmp_path)
    deleted = copy / kinds["evaluate_zero_shot:.json"].relative_to(workdir)
    deleted.unlink()
    (copy / "results" / "tables" / "recall.tsv").unlink()
    result = snakemake(copy)
    assert result.returncode == 0, result.output[-3000:]
    assert "evaluate_zero_shot" in result.output and deleted.is_file()

    def rows(folder):
        lines = (folder / "results" / "tables" / "recall.tsv").read_text().splitlines()
        header = lines[0].split("\t")
        timing = {i for i, name in enumerate(header) if "seconds" in name}
        return [[v for i, v in enumerate(line.split("\t")) if i not in timing] for line in lines]

    assert rows(copy) == rows(workdir)


RETRAINING = {"validate", "subsample", "train"}


def edited_qrels(qrels: Path, corpus: Path, change: str) -> str:
    """The test benchmark's qrels with a grade changed and a non-relevant judgement added ("rescore"), or
    with a document of the corpus that no query judged relevant made relevant ("new_relevant")."""
    lines = qrels.read_text().splitlines(keepends=True)
    judged = {line.split()[2] for line in lines}
    other = next(json.loads(line)["docid"] for line in corpus.read_text().splitlines()
                 if json.loads(line)["docid"] not in judged)
    qid = lines[0].split()[0]
    if change == "rescore":
        return lines[0].rsplit(" ", 1)[0] + " 2\n" + "".join(lines[1:]) + f"{qid} 0 {other} 0\n"
    return "".join(lines) + f"{qid} 0 {other} 1\n"


@pytest.mark.e2e
@pytest.mark.parametrize("change", ["rescore", "new_relevant"])
def test_a_qrels_edit_rescores_without_training_or_stops_naming_the_file(clean, tmp_path, snakemake, change):
    """A test benchmark's qrels prepared again with other judgements (and the sidecar its preparation
    writes): the students' runs are scored again and no job validates, samples or trains; a document now
    judged relevant that the overlap screen never saw stops the evaluate job, naming the qrels file and the
    command that re-screens and retrains, and the tables stay as they were."""
    workdir, _, _ = clean
    copy = copy_of(workdir, tmp_path)
    qrels = copy / "results" / "prepare" / "benchmarks" / "bible-ny-en" / "qrels.txt"
    corpus = copy / "results" / "prepare" / "collections" / "bible-ny-en" / "corpus.jsonl"
    qrels.write_text(edited_qrels(qrels, corpus, change))
    from swimscale.formats import write_sidecar

    write_sidecar(qrels)
    recall = copy / "results" / "tables" / "recall.tsv"
    before = recall.read_bytes()
    result = snakemake(copy)
    rules = set(re.findall(r"^(?:local)?rule (\w+):$", result.output, re.M))
    assert not RETRAINING & rules, rules
    if change == "rescore":
        assert result.returncode == 0, result.output[-3000:]
        assert {"evaluate", "evaluate_zero_shot", "correlate"} <= rules, rules
        return
    assert result.returncode != 0 and rules & {"evaluate", "evaluate_zero_shot"}, rules
    assert "results/prepare/benchmarks/bible-ny-en/qrels.txt: 1 document(s) judged relevant now that the " \
           "training pool's overlap screen never saw" in result.output, result.output[-3000:]
    assert "re-screen and retrain: rm 'results/validate/ny/report.json' && snakemake" in result.output
    assert recall.read_bytes() == before


@pytest.mark.e2e
def test_a_second_run_from_another_working_directory_is_refused(clean, tmp_path, snakemake, tiny_config):
    """Two working directories, one absolute results_dir: while the lock is held (by a live process),
    the second run is refused naming the holder and deletes nothing; a dry run takes no lock."""
    workdir, _, _ = clean
    results = tmp_path / "shared_results"
    shutil.copytree(workdir / "results", results)
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump({**tiny_config, "results_dir": str(results)}))
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    try:
        import socket

        (results / "run.lock").write_text(json.dumps({"host": socket.gethostname(), "pid": holder.pid,
                                                     "cwd": "/first/run", "started": "2026-01-01T00:00:00Z"}))
        (results / "tables" / "recall.tsv").unlink()  # work to do, so the run would start jobs
        listing = sorted(p for p in results.rglob("*") if p.is_file())
        second = tmp_path / "second"
        second.mkdir()
        dry = snakemake(second, "-n", config=config)
        assert dry.returncode == 0, dry.output[-2000:]
        result = snakemake(second, config=config)
        assert result.returncode != 0
        assert f"in use by the run of pid {holder.pid}" in result.output and "/first/run" in result.output
        assert sorted(p for p in results.rglob("*") if p.is_file()) == listing
    finally:
        holder.kill()
        holder.wait()
    result = snakemake(second, config=config)  # the holder gone: a stale lock, with the command that clears it
    assert result.returncode != 0 and "stale lock" in result.output and f"rm '{results / 'run.lock'}'" in result.output


def test_a_write_with_no_room_stops_the_job_in_one_line(tmp_path, monkeypatch):
    """The write-error case: a job whose output write raises ENOSPC stops with one line (file, free
    space, what to do) and leaves no partial file."""
    import errno

    from swimscale.formats import atomic_open, partial_path

    out = tmp_path / "results" / "x.tsv"
    out.parent.mkdir(parents=True)
    job = types.SimpleNamespace(log=[str(tmp_path / "job.log")], input=[], output=[str(out)],
                                config={"results_dir": str(tmp_path / "results"), "verify": "auto"})
    with pytest.raises(SystemExit) as stopped:
        with checked_job(job):
            with atomic_open(out) as handle:
                handle.write("a\n")
                raise OSError(errno.ENOSPC, "No space left on device")
    message = str(stopped.value.code)
    assert "\n" not in message and message.startswith(f"{out}: cannot write it: no space left") and "MiB free" in message
    assert not out.exists() and not partial_path(out).exists()


def test_a_job_refuses_a_derived_input_that_differs_from_its_sidecar(tmp_path):
    results = tmp_path / "results"
    results.mkdir()
    sample = results / "n4.jsonl"
    sample.write_text("{}\n" * 4)
    from swimscale.formats import write_sidecar

    write_sidecar(sample)
    user_file = tmp_path / "user.tsv"  # not derived: no record needed
    user_file.write_text("q\tx\n")
    sample.write_text("{}\n" * 3)
    job = types.SimpleNamespace(log=[str(tmp_path / "job.log")], input=[str(sample), str(user_file)], output=[],
                                config={"results_dir": str(results), "verify": "auto"})
    ran = []
    with pytest.raises(SystemExit, match=rf"^{re.escape(str(sample))}: size differs from its sidecar"):
        with checked_job(job):
            ran.append(True)
    assert not ran
