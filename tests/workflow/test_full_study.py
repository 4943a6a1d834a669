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
TIERS = ("very-low", "low", "high", "unknown")
CONTROLS = ("brx", "gbm", "hne", "mwr")  # XTREME-UP languages without SWIM-IR data: N = 0 only
CLIRMATRIX_INDIC = ("gu", "kn", "mai", "ml", "mr", "or", "pa", "ps", "sa", "ta", "ur")  # BI-139 with English documents
OFFLINE = {"HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}


def seeds_of(config, code):
    return config["pools"][code].get("seeds") or config["seeds"]


def trainings(config):
    """Training jobs: every language's sizes N > 0 × its seeds (its pool's own, else the global) × methods."""
    return sum(len([n for n in (config["pools"][c].get("sizes") or config["sizes"]) if n > 0]) * len(seeds_of(config, c))
               for c in config["languages"]) * len(config["methods"])


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
    assert stats["prepare_pool"] == len(languages) == 36 and stats["prepare_benchmark"] == len(used) == 81
    # Two collections (clirmatrix-en for every CLIRMatrix split, xtreme-up for every XTREME-UP one): two
    # corpora, two encodings and two indexes for the teacher, however many benchmarks search them.
    assert stats["prepare_collection"] == stats["encode_corpus"] == stats["index"] == 2
    encoded = sorted(o.split(",")[0] for o in rule_outputs(result.stdout, "encode_corpus"))
    assert encoded == [f"results/encode/mdpr-msmarco/{c}/corpus.npy" for c in ("clirmatrix-en", "xtreme-up")]
    # students_per_job: language — one training job per trained language; the Indic languages' teacher
    # states once each (teacher_tokens: auto in a GPU study, capped pools)
    trained = [c for c in languages if config["pools"][c]["source"] != "none"]
    train_jobs = {rule: n for rule, n in stats.items() if rule.startswith("train_")}
    assert config["students_per_job"] == "language" and set(train_jobs.values()) == {1}
    assert sorted(train_jobs) == sorted(f"train_{c}" for c in trained) and len(train_jobs) == 32
    assert stats["teacher_states"] == sum(1 for c in trained if config["pools"][c].get("cap_sizes")) == 15
    assert stats["evaluate"] == trainings(config)  # one per student
    assert stats["search_zero_shot"] == len(tests) == 49  # reported: test benchmarks only
    # The zero-data controls: prepared (an empty pool), validated, searched at N = 0, never trained.
    for code in CONTROLS:
        assert f"results/search/{code}/zero_shot/xtreme-up-{code}.trec" in result.stdout
        assert f"results/subsample/{code}/" not in result.stdout and f"results/train/{code}/" not in result.stdout
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
    assert len(students) == trainings(yaml.safe_load(FULL.read_text()))
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
    # students_per_job: language — a training job per language, each one submission (not in the
    # profile's groups); `per_size` sizes of one language and seed per sample submission.
    trained = [c for c, s in sizes.items() if s]
    train_jobs = {rule: n for rule, n in counts.ungrouped.items() if rule.startswith("train_")}
    assert len(train_jobs) == len(trained) and set(train_jobs.values()) == {1}
    assert counts.ungrouped["teacher_states"] == 15
    profile = yaml.safe_load((ROOT / "profiles" / "slurm" / "config.yaml").read_text())
    per_size = profile["group-components"]["student_{language}_seed{seed}"]
    samples = sum(math.ceil(len(s) / per_size) * len(seeds_of(config, c)) for c, s in sizes.items())
    assert counts.group_kinds["subsample"] == samples
    assert counts.submissions <= min(632, counts.total_jobs / 5)
    print(f"full-study submissions: {counts.submissions} for {counts.total_jobs} jobs "
          f"({counts.group_jobs} group jobs, {counts.ungrouped_jobs} ungrouped); dry run {seconds:.1f} s")


def read_languages():
    with open(ROOT / "config" / "languages.tsv") as handle:
        return {r["code"]: r for r in csv.DictReader((line for line in handle if not line.startswith("#")), delimiter="\t")}


def tier_rule(joshi_class: str, mbert: str) -> str:
    """The rule of languages.tsv's header, written out again: very-low = Joshi class ≤ 1 or not in
    mBERT's pretraining; low = class 2–3 and in it; high = class 4–5 and in it; else unknown."""
    if mbert == "no" or (joshi_class != "unknown" and int(joshi_class) <= 1):
        return "very-low"
    if joshi_class == "unknown":
        return "unknown"
    return "low" if int(joshi_class) <= 3 else "high"


def test_every_tier_follows_the_rule_from_its_sources_never_from_the_pool_size():
    rows = read_languages()
    assert {"code", "name", "script", "tier", "tier_source", "joshi_class", "joshi_source", "mbert_pretraining",
            "mbert_source", "swimir_dataset", "swimir_pairs", "pairs_source", "benchmarks",
            "dev_benchmark"} <= set(next(iter(rows.values())))
    for code, row in rows.items():
        assert row["joshi_class"] in ("0", "1", "2", "3", "4", "5", "unknown"), code
        assert row["mbert_pretraining"] in ("yes", "no") and row["mbert_source"] and row["joshi_source"], code
        assert row["tier"] == tier_rule(row["joshi_class"], row["mbert_pretraining"]) and row["tier_source"], code
        if row["joshi_class"] == "unknown":
            assert row["joshi_source"].startswith("not found"), code  # unknown says so; never a guess
    header = (ROOT / "config" / "languages.tsv").read_text().split("\ncode\t")[0]
    assert header.count("# tier rule") == 1 and "lang2tax" in header and "multilingual.md" in header
    # SWIM-IR's pool size is its own variable: both tiers below high hold large and small pools.
    large = lambda r: r["swimir_pairs"] in ("~900k",) or (r["swimir_pairs"].isdigit() and int(r["swimir_pairs"]) > 100000)  # noqa: E731
    for tier in ("very-low", "low"):
        pools = [large(r) for r in rows.values() if r["tier"] == tier and r["swimir_pairs"] != "0"]
        assert True in pools and False in pools, tier
    assert rows["te"]["tier"] == "very-low" and rows["ta"]["tier"] == "low" and rows["hi"]["tier"] == "high"


def test_full_study_config_and_languages_table_agree():
    config = yaml.safe_load(FULL.read_text())
    rows = read_languages()
    assert rows["ny"]["tier"] == "very-low" and all(r["tier"] in TIERS and r["tier_source"] for r in rows.values())
    every_swimir = set(swimir.HF_LANGUAGES[swimir.CROSS_LINGUAL]) | set(swimir.HF_LANGUAGES[swimir.INDIC])
    controls = {c for c in config["languages"] if config["pools"][c]["source"] == "none"}
    assert controls == set(CONTROLS) and set(config["languages"]) == every_swimir | controls  # hi once
    for code in config["languages"]:
        pool = config["pools"][code]
        benches = {b: s.get("role", "test") for b, s in config["benchmarks"].items() if s["language"] == code}
        assert set(rows[code]["benchmarks"].split()) == {b for b, role in benches.items() if role == "test"} != set()
        if code in controls:  # N = 0 only, no training data, so no dev benchmark
            assert pool["sizes"] == [0] and rows[code]["swimir_pairs"] == "0" and not rows[code]["dev_benchmark"]
            assert [b for b, role in benches.items() if role == "dev"] == [] and rows[code]["tier"] == "very-low"
            continue
        assert code in swimir.HF_LANGUAGES[pool["dataset"]] and pool["dataset"] in rows[code]["swimir_dataset"]
        assert [rows[code]["dev_benchmark"]] == [b for b, role in benches.items() if role == "dev"]  # exactly one
        if pool["dataset"] == swimir.INDIC:
            assert pool["cap_sizes"] and max(pool["sizes"]) < 10000
        # An exact pair count only where the notes confirm it; every other is marked approximate.
        assert rows[code]["swimir_pairs"].isdigit() or rows[code]["swimir_pairs"].startswith("~")
        assert rows[code]["swimir_pairs"].isdigit() or "approximate" in rows[code]["pairs_source"]
        # Power: at least 5 seeds for the very-low tier (docs/full_study.md, Power).
        seeds = pool.get("seeds") or config["seeds"]
        assert len(seeds) >= (5 if rows[code]["tier"] == "very-low" else 3), code
    assert rows["fi"]["swimir_pairs"] == "906429" and rows["kn"]["swimir_pairs"] == "5763"
    # Tier contrasts within one family: every tier has at least 3 languages scored on CLIRMatrix, and every
    # language CLIRMatrix BI-139 pairs with English documents is scored there.
    on_clirmatrix = {s["language"] for b, s in config["benchmarks"].items()
                     if s.get("role", "test") == "test" and s["source"] == "ir_datasets" and "clirmatrix" in s["id"]}
    assert on_clirmatrix >= set(swimir.HF_LANGUAGES[swimir.CROSS_LINGUAL]) | set(CLIRMATRIX_INDIC)
    for tier in ("high", "low", "very-low"):
        assert len({c for c in on_clirmatrix if rows[c]["tier"] == tier}) >= 3, tier
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
