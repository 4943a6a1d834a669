"""A qrels edit rescores, it does not retrain (issue 28, part 6): the dry-run job list after an edit of
the user's qrels file of a TEST benchmark has the benchmark's preparation, the evaluate jobs and the
tables, and no `validate`, `subsample` or `train` job; an edit of the DEV benchmark's qrels (which
training chooses its students on) still retrains.

The finished study is laid out without running it: every output of the dry run is made (empty), then
`snakemake --touch` dates them in the DAG's order, so that the next dry run has nothing to do and each
edit's job list is what Snakemake would run. A document made relevant that the overlap screen never saw
is stopped by the evaluate job itself (tests/data/test_screened.py; end to end: test_faults.py)."""

import os
import re
import time
from pathlib import Path

import yaml

OFFLINE = {"HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}
RETRAINING = {"validate", "subsample", "train"}


def trec_benchmark(root: Path, name: str, role: str) -> dict:
    root.mkdir(parents=True)
    (root / "queries.tsv").write_text("".join(f"{name}-q{i}\tfunso {i}\n" for i in range(4)))
    (root / "corpus.jsonl").write_text("".join(f'{{"docid": "{name}-d{i}", "text": "chikalata {i}"}}\n' for i in range(8)))
    (root / "qrels.txt").write_text("".join(f"{name}-q{i} 0 {name}-d{i} 1\n" for i in range(4)))
    return {"source": "trec", "language": "ny", "role": role, "queries": str(root / "queries.tsv"),
            "corpus": str(root / "corpus.jsonl"), "qrels": str(root / "qrels.txt")}


def study(tmp_path, tiny_config) -> Path:
    """The tiny config, one method and size, with a TREC test benchmark beside the Bible's and a TREC dev one."""
    config = {**tiny_config, "sizes": [0, 32], "methods": ["optical"]}
    config["benchmarks"] = {"bible-ny-en": tiny_config["benchmarks"]["bible-ny-en"],
                            "ny-trec": trec_benchmark(tmp_path / "trec", "ny-trec", "test"),
                            "ny-trec-dev": trec_benchmark(tmp_path / "trec-dev", "ny-trec-dev", "dev")}
    path = tmp_path / "study.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def dry_run(snakemake, workdir, config) -> tuple[list[str], list[str]]:
    """(the rules of the jobs a dry run lists, every output they declare)."""
    result = snakemake(workdir, "-n", config=config, cores=1, env=OFFLINE, timeout=300)
    assert result.returncode == 0, result.output[-3000:]
    rules = re.findall(r"^(?:local)?rule (\w+):$", result.stdout, re.M)
    outputs = [p for line in re.findall(r"^    output: (.*)$", result.stdout, re.M) for p in line.split(", ")]
    return rules, outputs


def finished(snakemake, workdir, config) -> None:
    """Every output made (a folder for a directory output: those without a suffix) and dated by --touch."""
    _, outputs = dry_run(snakemake, workdir, config)
    for output in outputs:
        path = workdir / output
        if not path.suffix:
            path.mkdir(parents=True, exist_ok=True)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.touch()
    touched = snakemake(workdir, "--touch", config=config, cores=1, env=OFFLINE, timeout=300)
    assert touched.returncode == 0, touched.output[-3000:]
    assert dry_run(snakemake, workdir, config)[0] == []  # nothing to do: the study is finished


def edit(path: Path, text: str) -> None:
    """Rewrites the user's file with other content and a later modification time."""
    path.write_text(text)
    later = time.time() + 5
    os.utime(path, (later, later))


def test_a_test_qrels_edit_rescores_and_a_dev_qrels_edit_retrains(tmp_path, snakemake, tiny_config):
    config, workdir = study(tmp_path, tiny_config), tmp_path / "work"
    workdir.mkdir()
    finished(snakemake, workdir, config)
    # A grade changed and a non-relevant judgement added to the test benchmark's qrels.
    qrels = tmp_path / "trec" / "qrels.txt"
    edit(qrels, qrels.read_text().replace("ny-trec-d0 1", "ny-trec-d0 2") + "ny-trec-q1 0 ny-trec-d5 0\n")
    rules, outputs = dry_run(snakemake, workdir, config)
    assert {"prepare_benchmark", "evaluate", "evaluate_zero_shot", "correlate"} <= set(rules), rules
    assert not (RETRAINING | {"search_zero_shot"}) & set(rules), rules  # no search again either
    assert "results/prepare/benchmarks/ny-trec/qrels.txt" in outputs
    assert "results/evaluate/ny/optical/seed0/n32" in outputs  # the student's metrics, from its kept run
    assert "results/evaluate/ny/zero_shot/ny-trec.json" in outputs
    # The dev benchmark's judgements choose the students: their edit re-screens and retrains.
    dev = tmp_path / "trec-dev" / "qrels.txt"
    edit(dev, dev.read_text().replace("ny-trec-dev-d0 1", "ny-trec-dev-d0 2"))
    rules, _ = dry_run(snakemake, workdir, config)
    assert RETRAINING <= set(rules), rules
