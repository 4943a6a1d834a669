"""End-to-end: the real workflow on a tiny real config (a few hundred Bible verses), in a temp dir."""

import csv
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TINY = ROOT / "tests" / "data" / "tiny_config.yaml"


def snakemake(workdir, *args, config=TINY):
    command = [sys.executable, "-m", "snakemake", "--snakefile", str(ROOT / "Snakefile"), "--directory",
               str(workdir), "--configfile", str(config), "--cores", "2", *args]
    env = {**os.environ, "OMP_WAIT_POLICY": "PASSIVE"}
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=1200)


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("tiny")
    result = snakemake(workdir)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-5000:]
    return workdir


@pytest.mark.e2e
def test_tiny_run_produces_tables_runs_and_plot(tiny_run):
    results = tiny_run / "results"
    with open(results / "tables" / "recall.tsv") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    assert [(r["size"], r["seed"]) for r in rows] == [("0", "0"), ("32", "0"), ("64", "0")]
    for row in rows:
        assert 0.0 <= float(row["recall_at_50"]) <= 1.0
        assert int(row["n_queries"]) == 40
        run = tiny_run / row["run_file"]  # paths are relative to the working directory
        assert run.exists() and (tiny_run / row["qrels_file"]).exists()
        assert len(run.read_text().splitlines()) == 40 * 100
    assert [r["steps"] for r in rows] == ["0", "2", "4"]  # 1 epoch at batch 16
    with open(results / "tables" / "correlation.tsv") as handle:
        correlations = list(csv.DictReader(handle, delimiter="\t"))
    # One row per metric; Recall@50 first.
    assert [r["metric"] for r in correlations] == ["recall_at_50", "recall_at_100", "ndcg_at_10", "mrr_at_10"]
    corr = correlations[0]
    assert corr["n_points"] == "2" and corr["note"]  # two trained points: too few for a correlation
    assert (results / "plots" / "recall_vs_n.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # One corpus encoding and one teacher-token cache, whatever the number of runs.
    assert len(list((results / "encode").rglob("corpus.npy"))) == 1
    assert len(list((results / "train" / "teacher_tokens").rglob("*.safetensors"))) == 1
    for stage in ("prepare", "subsample", "train", "encode", "index", "search", "evaluate", "correlate"):
        assert (results / "logs" / stage).is_dir() and (results / "benchmarks" / stage).is_dir()


@pytest.mark.e2e
def test_tiny_run_writes_the_analysis_and_its_report(tiny_run):
    results = tiny_run / "results"
    for name in ("correlation", "recall_by_size", "learning_curves", "slopes"):
        assert (results / "tables" / f"{name}.tsv").is_file()
        assert (results / "tables" / f"{name}.md").read_text().startswith("| ")
        assert "\\begin{tabular}" in (results / "tables" / f"{name}.tex").read_text()
    for name in ("recall_vs_n", "slope_forest"):
        assert (results / "plots" / f"{name}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert "<svg" in (results / "plots" / f"{name}.svg").read_text()
    summary = (results / "summary.md").read_text()
    assert "### ny (bible-ny-en, optical)" in summary and "For ny (bible-ny-en, optical), Recall@50 went from" in summary
    with open(results / "tables" / "learning_curves.tsv") as handle:
        (curve,) = list(csv.DictReader(handle, delimiter="\t"))
    assert curve["r_inf"] == "nan" and curve["note"]  # 3 sizes: too few for a learning curve, and it says so
    report = snakemake(tiny_run, "--report", "results/report.html")
    assert report.returncode == 0, report.stdout[-3000:] + report.stderr[-3000:]
    html = (tiny_run / "results" / "report.html").read_text()
    for name in ("summary.md", "correlation.tex", "slope_forest.svg", "learning_curves.md"):
        assert name in html


@pytest.mark.e2e
def test_second_run_has_nothing_to_do(tiny_run):
    result = snakemake(tiny_run, "-n")
    assert result.returncode == 0
    assert "Nothing to be done" in result.stdout + result.stderr


@pytest.mark.e2e
def test_recall_matches_pytrec_eval_on_the_real_run_files(tiny_run):
    pytrec_eval = pytest.importorskip("pytrec_eval")
    from swimscale.metrics import read_qrels, read_run, recall_at_k

    with open(tiny_run / "results" / "tables" / "recall.tsv") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            run, qrels = read_run(tiny_run / row["run_file"]), read_qrels(tiny_run / row["qrels_file"])
            reference = pytrec_eval.RelevanceEvaluator(qrels, {"recall_50"}).evaluate(run)
            ours = recall_at_k(run, qrels, 50)
            assert set(ours) == set(reference)  # every judged query was retrieved
            mean = sum(ours.values()) / len(ours)
            assert abs(mean - float(row["recall_at_50"])) < 1e-5
            assert max(abs(ours[q] - reference[q]["recall_50"]) for q in ours) < 1e-12


def test_workflow_is_lint_and_format_clean():
    lint = subprocess.run([sys.executable, "-m", "snakemake", "--lint"], cwd=ROOT, capture_output=True, text=True)
    assert lint.returncode == 0 and "Congratulations" in lint.stdout + lint.stderr, lint.stdout + lint.stderr
    snakefmt = shutil.which("snakefmt", path=str(Path(sys.executable).parent))
    if snakefmt is None:
        pytest.skip("snakefmt is not installed (it comes with the test extras)")
    check = subprocess.run([snakefmt, "--check", "."], cwd=ROOT, capture_output=True, text=True)
    assert check.returncode == 0, check.stderr


def test_bad_config_stops_before_any_work(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(TINY.read_text().replace("languages: [ny]", "languages: [ny]\nsizes_typo: [1]"))
    result = snakemake(tmp_path, "-n", config=bad)
    assert result.returncode != 0
    assert "sizes_typo" in result.stdout + result.stderr
    assert not (tmp_path / "results").exists()


@pytest.mark.e2e
def test_killed_training_job_resumes_to_the_same_student(tiny_run, tmp_path):
    """SIGKILL a training job after its first checkpoint; re-running Snakemake resumes from it and
    ends with the same student, bit for bit, as the uninterrupted tiny run."""
    import psutil
    from safetensors.torch import load_file

    run_dir = "results/train/ny/optical/seed0/n64"
    for sub in ("prepare", "subsample", "train/teacher_tokens"):  # reuse the tiny run's inputs
        shutil.copytree(tiny_run / "results" / sub, tmp_path / "results" / sub)
    command = [sys.executable, "-m", "snakemake", "--snakefile", str(ROOT / "Snakefile"), "--directory",
               str(tmp_path), "--configfile", str(TINY), "--cores", "2", f"{run_dir}/student.safetensors"]
    checkpoint = tmp_path / run_dir / "checkpoint.pt"
    env = {**os.environ, "OMP_WAIT_POLICY": "PASSIVE"}
    with open(tmp_path / "first.log", "w") as out:
        first = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env)
        killed = False
        deadline = time.monotonic() + 600
        while first.poll() is None and time.monotonic() < deadline and not killed:
            if checkpoint.exists():
                for child in psutil.Process(first.pid).children(recursive=True):
                    if any("train.py" in part for part in child.cmdline()):
                        child.send_signal(signal.SIGKILL)
                        killed = True
            time.sleep(0.02)
        first.wait(timeout=600)
    assert killed, (tmp_path / "first.log").read_text()[-3000:]
    assert first.returncode != 0 and checkpoint.exists()  # the job failed; its checkpoint survived

    second = subprocess.run(command, capture_output=True, text=True, env=env, timeout=600)
    assert second.returncode == 0, second.stderr[-3000:]
    train_log = (tmp_path / "results/logs/train/ny/optical/seed0/n64.log").read_text()
    assert "resumed from checkpoint" in train_log
    assert not checkpoint.exists()
    resumed = load_file(str(tmp_path / run_dir / "student.safetensors"))
    reference = load_file(str(tiny_run / run_dir / "student.safetensors"))
    assert resumed.keys() == reference.keys()
    assert all(torch_equal(resumed[k], reference[k]) for k in reference)


def torch_equal(a, b):
    import torch

    return torch.equal(a, b)
