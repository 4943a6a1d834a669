"""End-to-end: the real workflow on a tiny real config (a few hundred Bible verses), in a temp dir."""

import csv
import json
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import pytrec_eval
import snakefmt  # noqa: F401  (a test extra: its absence fails here, it is never skipped)

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory, snakemake):
    workdir = tmp_path_factory.mktemp("tiny")
    result = snakemake(workdir)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-5000:]
    return workdir


METHODS = ["optical", "optical_pooled", "pooled", "contrastive"]


@pytest.mark.e2e
def test_tiny_run_produces_tables_runs_and_plot(tiny_run):
    results = tiny_run / "results"
    with open(results / "tables" / "recall.tsv") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    # Every method arm ran end to end; the dev benchmark is never a row.
    assert [(r["method"], r["size"], r["seed"]) for r in rows] == [
        (method, size, "0") for method in sorted(METHODS) for size in ("0", "32", "64")]
    assert {r["benchmark"] for r in rows} == {"bible-ny-en"}
    for row in rows:
        assert 0.0 <= float(row["recall_at_50"]) <= 1.0
        assert int(row["n_queries"]) == 40
        run = tiny_run / row["run_file"]  # paths are relative to the working directory
        assert run.exists() and (tiny_run / row["qrels_file"]).exists()
        assert len(run.read_text().splitlines()) == 40 * 100
    for row in (r for r in rows if r["size"] != "0"):
        log = json.loads((results / "train/ny" / row["method"] / "seed0" / f"n{row['size']}" / "train_log.json").read_text())
        assert int(row["steps"]) == log["steps"]
        assert (row["budget"], int(row["steps_at_best"])) == (log["budget"], log["steps_at_best"])
        assert log["budget"] == "converged" and log["dev_curve"][0][0] == 0 and log["steps"] <= 4
        assert log["dev_recall_at_best"] == max(recall for _, recall in log["dev_curve"])  # never below step 0's
        assert log["examples_per_second"] > 0 and log["prefix_depth"] == 5
    with open(results / "tables" / "correlation.tsv") as handle:
        correlations = list(csv.DictReader(handle, delimiter="\t"))
    # One row per method and metric; Recall@50 first.
    optical = [r for r in correlations if r["method"] == "optical"]
    assert [r["metric"] for r in optical] == ["recall_at_50", "recall_at_100", "ndcg_at_10", "mrr_at_10", "log2_first_rank"]
    corr = optical[0]
    assert corr["n_points"] == "2" and corr["note"]  # two trained points: too few for a correlation
    assert (results / "plots" / "recall_vs_n.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # One corpus encoding per collection (test and dev), one query-state file per benchmark, whatever the
    # number of runs; no teacher-token cache; students are temporary.
    assert len(list((results / "encode").rglob("corpus.npy"))) == 2
    assert len(list((results / "query_states").rglob("*.safetensors"))) == 2
    assert not (results / "train" / "teacher_tokens").exists()
    assert not list((results / "train").rglob("student.safetensors"))
    for stage in ("prepare", "subsample", "train", "query_states", "encode", "index", "search", "correlate"):
        assert (results / "logs" / stage).is_dir() and (results / "timings" / stage).is_dir()


@pytest.mark.e2e
def test_tiny_run_writes_the_analysis_and_its_report(tiny_run, snakemake):
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
        curves = list(csv.DictReader(handle, delimiter="\t"))
    assert sorted(c["method"] for c in curves) == ["contrastive", "optical", "optical_pooled", "pooled"]  # one per arm
    for curve in curves:
        assert curve["r_inf"] == "nan" and curve["note"]  # 3 sizes: too few for a learning curve, and it says so
    report = snakemake(tiny_run, "--report", "results/report.html")
    assert report.returncode == 0, report.stdout[-3000:] + report.stderr[-3000:]
    html = (tiny_run / "results" / "report.html").read_text()
    for name in ("summary.md", "correlation.tex", "slope_forest.svg", "learning_curves.md"):
        assert name in html


@pytest.mark.e2e
def test_second_run_has_nothing_to_do(tiny_run, snakemake):
    result = snakemake(tiny_run, "-n")
    assert result.returncode == 0
    assert "Nothing to be done" in result.stdout + result.stderr


@pytest.mark.e2e
def test_recall_matches_pytrec_eval_on_the_real_run_files(tiny_run):
    from swimscale.retrieval._metrics import read_qrels, read_run, recall_at_k

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
    check = subprocess.run([sys.executable, "-m", "snakefmt", "--check", "."], cwd=ROOT, capture_output=True, text=True)
    assert check.returncode == 0, check.stderr


def test_bad_config_stops_before_any_work(tmp_path, snakemake, tiny_config_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(tiny_config_path.read_text().replace("languages: [ny]", "languages: [ny]\nsizes_typo: [1]"))
    result = snakemake(tmp_path, "-n", config=bad)
    assert result.returncode != 0
    assert "sizes_typo" in result.stdout + result.stderr
    assert not (tmp_path / "results").exists()


@pytest.mark.e2e
def test_killed_training_job_resumes_to_the_same_student(tiny_run, tmp_path, snakemake):
    """SIGKILL a training job after its first checkpoint; re-running Snakemake resumes from it and ends
    with the same student as the uninterrupted tiny run: the same losses, dev curve and selected step,
    and, searched, the same run file byte for byte."""
    import psutil

    run_dir = "results/train/ny/optical/seed0/n64"
    for sub in ("prepare", "validate", "subsample", "encode", "index", "query_states"):  # the tiny run's inputs
        shutil.copytree(tiny_run / "results" / sub, tmp_path / "results" / sub)
    target = "results/evaluate/ny/optical/seed0/n64"  # the student's metrics: trained, searched, then scored
    checkpoint = tmp_path / run_dir / "checkpoint.pt"
    with open(tmp_path / "first.log", "w") as out:
        first = subprocess.Popen(snakemake.command(tmp_path, target), stdout=out, stderr=subprocess.STDOUT)
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

    second = snakemake(tmp_path, target, timeout=600)
    assert second.returncode == 0, second.stderr[-3000:]
    train_log = (tmp_path / "results/logs/train/ny/optical/seed0/n64.log").read_text()
    assert "resumed from checkpoint" in train_log
    assert not checkpoint.exists()
    resumed = json.loads((tmp_path / run_dir / "train_log.json").read_text())
    reference = json.loads((tiny_run / run_dir / "train_log.json").read_text())
    assert resumed["resumed_from_step"] >= 1
    for key in ("loss", "dev_curve", "steps", "steps_at_best", "stopped_by"):
        assert resumed[key] == reference[key], key
    run_file = "results/search/ny/optical/seed0/n64/bible-ny-en.trec"
    assert (tmp_path / run_file).read_bytes() == (tiny_run / run_file).read_bytes()


# --- failure without loss: --keep-going, tables of what finished, identical reruns -----------------


def yo_lines(n=70):
    import json

    return [
        json.dumps({"_id": f"yo-{i}", "lang": "Yoruba", "code": "yo", "query": f"ìbéèrè {i} nípa ọ̀rọ̀ {i % 7}?",
                    "title": f"Title {i}", "text": f"English passage number {i} about topic {i % 7}."},
                   ensure_ascii=False)
        for i in range(n)
    ]


TREC_FILES = {"queries": "queries.tsv", "corpus": "corpus.jsonl", "qrels": "qrels.txt"}


def write_trec(folder, queries, documents, qid_prefix, docid_prefix):
    """A local TREC-style benchmark in `folder`: query i is judged relevant to document i."""
    import json

    folder.mkdir()
    (folder / "queries.tsv").write_text("".join(f"{qid_prefix}{i}\t{q}\n" for i, q in enumerate(queries)), encoding="utf-8")
    (folder / "corpus.jsonl").write_text("".join(
        json.dumps({"docid": f"{docid_prefix}{i}", "title": "", "text": text}) + "\n" for i, text in enumerate(documents)))
    (folder / "qrels.txt").write_text("".join(f"{qid_prefix}{i} 0 {docid_prefix}{i} 1\n" for i in range(len(queries))))
    return folder


def trec_paths(folder):
    return {name: str(folder / file) for name, file in TREC_FILES.items()}


@pytest.fixture(scope="module")
def two_languages(tmp_path_factory, snakemake, tiny_config_path):
    """The tiny config plus a second language, yo: SWIM-IR release files (line 3 broken) and a local
    TREC-style benchmark, run from scratch with --keep-going. ny must finish whatever yo does."""
    import yaml

    root = tmp_path_factory.mktemp("two_languages")
    release = root / "swim_ir_v1"
    pool_file = release / "cross_lingual" / "yo" / "train.jsonl"
    pool_file.parent.mkdir(parents=True)
    lines = yo_lines()
    pool_file.write_text("\n".join(lines[:2] + ['{"_id": "yo-2", "query": '] + lines[3:]) + "\n", encoding="utf-8")
    bench = write_trec(root / "yo-bench", [f"ìbéèrè {i} nípa ọ̀rọ̀" for i in range(8)],
                       [f"English passage number {i} about topic {i % 7}." for i in range(120)], "q", "d")
    # The converged budget chooses yo's students on a dev benchmark of their own.
    dev = write_trec(root / "yo-dev", [f"ìbéèrè kejì {i}" for i in range(6)],
                     [f"Another English passage {i} on theme {i % 5}." for i in range(60)], "v", "e")
    config = yaml.safe_load(tiny_config_path.read_text())
    config["languages"] = ["ny", "yo"]
    config["pools"]["yo"] = {"source": "swimir_local", "path": str(release), "language_name": "Yoruba", "sizes": [0, 16]}
    config["benchmarks"]["yo-local"] = {"source": "trec", "language": "yo", **trec_paths(bench)}
    config["benchmarks"]["yo-local-dev"] = {"source": "trec", "language": "yo", "role": "dev", **trec_paths(dev)}
    config_file = root / "two_languages.yaml"
    config_file.write_text(yaml.safe_dump(config, allow_unicode=True))
    workdir = root / "work"
    workdir.mkdir()
    result = snakemake(workdir, "--keep-going", config=config_file)
    return dict(workdir=workdir, config=config_file, pool_file=pool_file, good="\n".join(lines) + "\n", result=result)


def read_tsv(path):
    with open(path) as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


# ny's run files and metrics (training logs hold wall times, so they are compared without them).
NY_FILES = ("search/ny/optical/seed0/n32/bible-ny-en.trec",
            "search/ny/zero_shot/bible-ny-en.trec", "search/ny/optical/seed0/n64/bible-ny-en.trec",
            "evaluate/ny/zero_shot/bible-ny-en.json", "evaluate/ny/optical/seed0/n32/bible-ny-en.json",
            "evaluate/ny/optical/seed0/n64/bible-ny-en.json")


@pytest.mark.e2e
def test_keep_going_one_language_fails_the_other_finishes(two_languages):
    workdir, result = two_languages["workdir"], two_languages["result"]
    output = result.stdout + result.stderr
    assert result.returncode != 0, output[-3000:]
    assert "prepare_pool yo" in output and f"{two_languages['pool_file']}: line 3: malformed JSON" in output
    results = workdir / "results"
    for name in NY_FILES:
        assert (results / name).exists(), name
    assert (results / "evaluate/yo/zero_shot/yo-local.json").exists()  # yo's benchmark was fine
    assert not (results / "prepare/pools/yo.jsonl").exists() and not (results / "train/yo").exists()
    assert not (results / "tables" / "recall.tsv").exists()  # the complete tables need every run


@pytest.fixture(scope="module")
def partial_tables(two_languages, snakemake):
    """The two-language directory after a run with partial=True (the tables of what finished)."""
    return snakemake(two_languages["workdir"], "--config", "partial=True", config=two_languages["config"])


@pytest.mark.e2e
def test_partial_builds_the_tables_of_what_finished_and_lists_the_rest(two_languages, partial_tables):
    workdir, result = two_languages["workdir"], partial_tables
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert not (workdir / "results/prepare/pools/yo.jsonl").exists()  # nothing that failed was retried
    rows = read_tsv(workdir / "results" / "tables" / "recall.tsv")
    assert {r["method"] for r in rows} == {"optical", "optical_pooled", "pooled", "contrastive"}
    assert [(r["language"], r["size"]) for r in rows if r["method"] == "optical"] == [
        ("ny", "0"), ("ny", "32"), ("ny", "64"), ("yo", "0")]
    (missing,) = [m for m in read_tsv(workdir / "results" / "tables" / "missing.tsv") if m["method"] == "optical"]
    assert (missing["language"], missing["benchmark"], missing["size"], missing["seed"]) == ("yo", "yo-local", "16", "0")
    assert missing["missing"] == "results/evaluate/yo/optical/seed0/n16/yo-local.json"
    assert (workdir / "results" / "plots" / "recall_vs_n.png").exists()


@pytest.mark.e2e
def test_two_runs_of_one_config_give_identical_results(tiny_run, two_languages, partial_tables):
    """ny's runs in the two-language directory repeat the tiny run's (same config for ny, another
    directory, from scratch): identical students, run files and metrics, and identical recall rows
    but for the training wall time."""
    workdir = two_languages["workdir"]
    for name in NY_FILES:
        assert (workdir / "results" / name).read_bytes() == (tiny_run / "results" / name).read_bytes(), name

    def ny_rows(run):
        lines = (run / "results" / "tables" / "recall.tsv").read_text().splitlines()
        header = lines[0].split("\t")
        keep = [i for i, column in enumerate(header) if column != "train_seconds"]
        rows = ["\t".join(line.split("\t")[i] for i in keep) for line in lines]
        return [rows[0]] + [row for row, line in zip(rows[1:], lines[1:]) if line.split("\t")[0] == "ny"]

    assert partial_tables.returncode == 0, partial_tables.stderr[-3000:]
    assert ny_rows(workdir) == ny_rows(tiny_run)


@pytest.mark.e2e
def test_fixed_input_reruns_only_what_had_not_finished(two_languages, snakemake):
    """Once yo's file is fixed, a plain run trains yo and completes the tables; ny's finished work is
    neither redone nor lost."""
    workdir = two_languages["workdir"]
    before = {name: (workdir / "results" / name).stat().st_mtime_ns for name in NY_FILES}
    two_languages["pool_file"].write_text(two_languages["good"], encoding="utf-8")
    result = snakemake(workdir, config=two_languages["config"])
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert {name: (workdir / "results" / name).stat().st_mtime_ns for name in NY_FILES} == before
    rows = read_tsv(workdir / "results" / "tables" / "recall.tsv")
    assert [(r["language"], r["size"]) for r in rows if r["method"] == "optical"] == [
        ("ny", "0"), ("ny", "32"), ("ny", "64"), ("yo", "0"), ("yo", "16")]
    assert read_tsv(workdir / "results" / "tables" / "missing.tsv") == []


def test_a_training_job_reads_only_its_own_sample_whatever_else_the_sweep_holds(tmp_path, snakemake, tiny_config):
    """Memory flat in the sweep: no shared teacher cache; the N = 32 job's inputs (its own sample, the
    dev benchmark) are the same whether or not a larger N (here 250) joins the sweep."""
    import yaml

    def train_inputs(sizes):
        config = tmp_path / f"sizes{len(sizes)}.yaml"
        config.write_text(yaml.safe_dump({**tiny_config, "sizes": sizes}))
        result = snakemake(tmp_path / f"work{len(sizes)}", "-n", "results/train/ny/optical/seed0/n32/train_log.json",
                           config=config, timeout=300)
        assert result.returncode == 0, result.output[-3000:]
        block = next(b for b in result.output.split("\nrule ")[1:] if b.startswith("train:"))
        return sorted(next(line for line in block.splitlines() if line.strip().startswith("input:")).split(":", 1)[1]
                      .strip().split(", "))

    alone = train_inputs([0, 32])
    assert alone == train_inputs([0, 32, 64, 250])
    assert "results/subsample/ny/seed0/n32.jsonl" in alone and not any("n64" in path or "n250" in path for path in alone)
    assert not any("teacher_tokens" in path for path in alone)
