"""The full-study configuration and the SWIM-IR/benchmark rules as Snakemake runs them: the whole DAG
builds offline with one corpus encoding per (benchmark, teacher), a benchmark shared by several
languages is encoded once, and missing data stops a job with what to download, not a traceback."""

import csv
import json
import math
import re
import time
from pathlib import Path

import yaml

from swimscale import data
from swimscale.data import _swimir as swimir
from tests.workflow.test_slurm import cluster_jobs

ROOT = Path(__file__).resolve().parents[2]
FULL = ROOT / "config" / "full_study.yaml"
TIERS = ("very-low", "low", "mid", "high")
OFFLINE = {"HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}


def run_offline(snakemake, workdir, config, *args, timeout=600):
    return snakemake(workdir, *args, config=config, cores=1, env=OFFLINE, timeout=timeout)


def job_stats(output):
    table = output[output.index("Job stats:"):]
    return {m.group(1): int(m.group(2)) for m in re.finditer(r"^(\w+)\s+(\d+)$", table, re.M)}


def rule_outputs(output, rule):
    blocks = re.findall(rf"^rule {rule}:\n((?:    .*\n)+)", output, re.M)
    return [re.search(r"^    output: (.*)$", b, re.M).group(1) for b in blocks]


def test_full_study_dag_builds_offline_with_one_encoding_per_collection(tmp_path, snakemake):
    config = yaml.safe_load(FULL.read_text())
    # HF_HUB_OFFLINE says no model can be downloaded: the Hub teacher must then be staged, and the DAG says
    # so before any job. Without it the dry run builds the DAG offline all the same (and fetches nothing).
    staged = snakemake(tmp_path, "-n", config=FULL, cores=1, env={**OFFLINE, "HF_HUB_CACHE": str(tmp_path / "cache")})
    assert staged.returncode != 0 and "config 'teacher.model': 'castorini/mdpr-tied-pft-msmarco' is not a local " \
        "model directory, and HF_HUB_OFFLINE is set" in staged.output
    start = time.monotonic()
    result = snakemake(tmp_path, "-n", config=FULL, cores=1, env={"HF_HUB_OFFLINE": "0", "HF_DATASETS_OFFLINE": "1"},
                       timeout=300)
    seconds = time.monotonic() - start
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    stats = job_stats(result.stdout)
    languages = config["languages"]
    used = sorted({b for b, s in config["benchmarks"].items() if s["language"] in languages})
    tests = [b for b in used if config["benchmarks"][b].get("role", "test") == "test"]
    assert stats["prepare_pool"] == len(languages) == 32 and stats["prepare_benchmark"] == len(used) == 66
    # Two collections (clirmatrix-en for every CLIRMatrix split, xtreme-up for every XTREME-UP one): two
    # corpora, two encodings and two indexes for the teacher, however many benchmarks search them.
    assert stats["prepare_collection"] == stats["encode_corpus"] == stats["index"] == 2
    encoded = sorted(o.split(",")[0] for o in rule_outputs(result.stdout, "encode_corpus"))
    assert encoded == [f"results/encode/mdpr-msmarco/{c}/corpus.npy" for c in ("clirmatrix-en", "xtreme-up")]
    trained = sum(len([n for n in (config["pools"][c].get("sizes") or config["sizes"]) if n > 0]) for c in languages)
    assert stats["train"] == trained * len(config["seeds"]) * len(config["methods"])
    assert stats["search_zero_shot"] == len(tests) == 34  # reported: test benchmarks only
    assert not (tmp_path / "data").exists() and not (tmp_path / "results").exists()  # nothing fetched or written
    # The time is reported, not asserted (no wall-clock assertions).
    print(f"full-study dry run: {seconds:.1f} s, {stats['total']} jobs")


def test_full_study_declares_students_temporary_and_keeps_logs_and_runs(tmp_path, snakemake):
    """Snakemake's own summary of the full-study DAG (built offline, nothing run): every student is a
    temp() output, deleted once its searches have run; training logs and run files are kept."""
    result = snakemake(tmp_path, "--summary", config=FULL, cores=1, env={"HF_HUB_OFFLINE": "0", "HF_DATASETS_OFFLINE": "1"},
                       timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    lines = [line.split("\t") for line in result.stdout.splitlines() if "\t" in line]
    header = lines[0]
    assert header[:2] == ["output_file", "date"] and "status" in header
    status = {row[0]: row[header.index("status")] for row in lines[1:]}
    students = [path for path in status if path.endswith("/student.safetensors")]
    config = yaml.safe_load(FULL.read_text())
    trained = sum(len([n for n in (config["pools"][c].get("sizes") or config["sizes"]) if n > 0]) for c in config["languages"])
    assert len(students) == trained * len(config["seeds"]) * len(config["methods"])
    assert {status[path] for path in students} == {"removed temp file"}
    kept = [path for path in status if path.endswith(("/train_log.json", ".trec"))]
    assert kept and {status[path] for path in kept} == {"missing"}  # not temporary: never removed
    assert not (tmp_path / "results").exists()


def test_full_study_cluster_submissions_are_at_most_a_fifth_of_the_ungrouped_count(tmp_path, monkeypatch):
    """The SLURM profile's groups, counted by tools/cluster_jobs.py on the full study's dry run: at most
    632 submissions (issue 11: a fifth of the 3,162 jobs submitted one by one before)."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")  # the Hub teacher need not be staged for a dry run
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    start = time.monotonic()
    counts = cluster_jobs().main(["--configfile", str(FULL), "--replace-workflow-config", "--directory", str(tmp_path)])
    seconds = time.monotonic() - start
    config = yaml.safe_load(FULL.read_text())
    sizes = {c: [n for n in (config["pools"][c].get("sizes") or config["sizes"]) if n > 0] for c in config["languages"]}
    trainings = sum(map(len, sizes.values())) * len(config["seeds"]) * len(config["methods"])
    assert counts.jobs_in_groups["train"] == trainings and "train" not in counts.ungrouped
    # `per_size` sizes of one language and seed per student submission: their samples and trainings (each
    # of which searches its student).
    profile = yaml.safe_load((ROOT / "profiles" / "slurm" / "config.yaml").read_text())
    per_size = profile["group-components"]["student_{language}_seed{seed}"]
    students = sum(math.ceil(len(s) / per_size) for s in sizes.values()) * len(config["seeds"])
    assert counts.group_kinds["subsample+train"] == students
    assert counts.submissions <= min(632, counts.total_jobs / 5)
    print(f"full-study submissions: {counts.submissions} for {counts.total_jobs} jobs "
          f"({counts.group_jobs} group jobs, {counts.ungrouped_jobs} ungrouped); dry run {seconds:.1f} s")


def test_full_study_config_and_languages_table_agree():
    config = yaml.safe_load(FULL.read_text())
    with open(ROOT / "config" / "languages.tsv") as handle:
        rows = {r["code"]: r for r in csv.DictReader((line for line in handle if not line.startswith("#")),
                                                     delimiter="\t")}
    assert {"code", "name", "script", "tier", "tier_source", "swimir_dataset", "swimir_pairs",
            "pairs_source", "benchmarks", "dev_benchmark"} <= set(next(iter(rows.values())))
    assert rows["ny"]["tier"] == "very-low" and all(r["tier"] in TIERS and r["tier_source"] for r in rows.values())
    every_swimir = set(swimir.HF_LANGUAGES[swimir.CROSS_LINGUAL]) | set(swimir.HF_LANGUAGES[swimir.INDIC])
    assert set(config["languages"]) == every_swimir  # every SWIM-IR cross-lingual language (hi once)
    for code in config["languages"]:
        pool = config["pools"][code]
        assert code in swimir.HF_LANGUAGES[pool["dataset"]] and pool["dataset"] in rows[code]["swimir_dataset"]
        benches = {b: s.get("role", "test") for b, s in config["benchmarks"].items() if s["language"] == code}
        assert set(rows[code]["benchmarks"].split()) == {b for b, role in benches.items() if role == "test"} != set()
        assert [rows[code]["dev_benchmark"]] == [b for b, role in benches.items() if role == "dev"]  # exactly one
        if pool["dataset"] == swimir.INDIC:
            assert pool["cap_sizes"] and max(pool["sizes"]) < 10000
        # An exact pair count only where the notes confirm it; every other is marked approximate.
        assert rows[code]["swimir_pairs"].isdigit() or rows[code]["swimir_pairs"].startswith("~")
        assert rows[code]["swimir_pairs"].isdigit() or "approximate" in rows[code]["pairs_source"]
    assert rows["fi"]["swimir_pairs"] == "906429" and rows["kn"]["swimir_pairs"] == "5763"
    # XTREME-UP test files for these are not confirmed: no benchmark relies on them.
    assert not {f"xtreme-up-{c}" for c in ("ar", "fi", "hi", "ko", "ru")} & set(config["benchmarks"])
    assert max(config["sizes"]) >= 256000 and len(config["seeds"]) == 3
    assert config["teacher"]["model"] == "castorini/mdpr-tied-pft-msmarco"


def hub_snapshot(root, code, n):
    (root / code).mkdir(parents=True)
    rows = [{"_id": f"{code}{i}", "lang": "Yoruba", "code": code, "query": f"q {i}", "title": "t", "text": f"passage {i}"}
            for i in range(n)]
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.Table.from_pylist(rows), root / code / "train-00000-of-00001.parquet")
    (root / "README.md").write_text(
        f"---\nconfigs:\n- config_name: {code}\n  data_files:\n  - split: train\n    path: {code}/train-*\n---\n")
    return root


def small_study(tmp_path):
    src = tmp_path / "bench"
    src.mkdir()
    (src / "queries.tsv").write_text("q1\tìbéèrè\n")
    (src / "corpus.jsonl").write_text('{"docid": "d1", "title": "", "text": "x"}\n{"docid": "d2", "text": "y"}\n')
    (src / "qrels.txt").write_text("q1 0 d1 1\n")
    config = {
        "languages": ["yo", "bn"],
        "sizes": [0, 2],
        "seeds": [0, 1],
        "teacher": {"name": "minilm-l6", "model": "bundled:all-MiniLM-L6-v2"},
        "train": {"budget": "fixed"},  # no dev benchmarks here: the study's shape, not its selection
        "data_dir": str(tmp_path / "data"),
        "pools": {
            "yo": {"source": "swimir_hf", "dataset": str(hub_snapshot(tmp_path / "hub", "yo", 5)),
                   "sizes": [0, 3, 8], "cap_sizes": True},
            "bn": {"source": "swimir_hf", "dataset": swimir.CROSS_LINGUAL},
        },
        "benchmarks": {
            # One benchmark evaluates both languages' students: still one corpus encoding.
            "shared-yo": {"source": "trec", "language": "yo", "pools": ["yo", "bn"], "queries": str(src / "queries.tsv"),
                          "corpus": str(src / "corpus.jsonl"), "qrels": str(src / "qrels.txt")},
            "xtreme-up-bn": {"source": "xtreme_up", "language": "bn", "url": (tmp_path / "none.tgz").as_uri()},
        },
    }
    path = tmp_path / "study.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def test_shared_benchmark_is_encoded_once(tmp_path, snakemake):
    result = run_offline(snakemake, tmp_path, small_study(tmp_path), "-n", "--replace-workflow-config")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    stats = job_stats(result.stdout)
    assert stats["encode_corpus"] == 2 and stats["search_zero_shot"] == 3  # shared-yo for yo and bn, xtreme-up-bn
    assert sorted(rule_outputs(result.stdout, "encode_corpus")) == [
        "results/encode/minilm-l6/shared-yo/corpus.npy, results/encode/minilm-l6/shared-yo/docids.txt",
        "results/encode/minilm-l6/xtreme-up/corpus.npy, results/encode/minilm-l6/xtreme-up/docids.txt",
    ]
    assert stats["subsample"] == 2 * 2 + 1 * 2  # yo's own sizes, bn's global ones


def test_prepare_and_subsample_jobs_and_missing_data_messages(tmp_path, snakemake):
    targets = ["results/subsample/yo/seed0/n8.jsonl", "results/prepare/benchmarks/shared-yo/qrels.txt",
               "results/prepare/pools/bn.jsonl", "results/prepare/benchmarks/xtreme-up-bn/qrels.txt"]
    result = run_offline(snakemake, tmp_path, small_study(tmp_path), "--replace-workflow-config", "--keep-going", *targets)
    out = result.stdout + result.stderr
    assert result.returncode != 0  # bn's data is missing offline
    # The SWIM-IR pool and its capped sample (size 8 of a 5-record pool): the whole pool, in rank order.
    manifest = json.loads((tmp_path / "results/prepare/manifests/pool-yo.json").read_text())
    assert manifest["sizes"]["effective"] == {"3": 3, "8": 5} and manifest["counts"]["pool_records"] == 5
    assert len(data.read_pool(tmp_path / targets[0], code="yo")) == 5
    assert "capped to the pool's 5" in (tmp_path / "results/logs/subsample/yo/seed0/n8.log").read_text()
    assert (tmp_path / targets[1]).read_text() == "q1 0 d1 1\n"
    # Missing data: one message each, saying what to download and where to put it; no traceback.
    assert "prepare_pool bn: SWIM-IR pool 'bn': could not load nthakur/swim-ir-cross-lingual" in out
    assert f"--local-dir {tmp_path / 'data' / 'swimir' / 'swim-ir-cross-lingual'}" in out
    assert "prepare_collection xtreme-up: benchmark 'xtreme-up-bn': XTREME-UP data not available" in out
    assert f"extract it into {tmp_path / 'data' / 'xtreme-up'}/" in out
    assert "Traceback (most recent call last)" not in out
    assert not (tmp_path / "results/prepare/pools/bn.jsonl").exists()
