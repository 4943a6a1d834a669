"""The rehearsal of the full study (issue #11 item 7; docs/rehearsal.md): config/full_study.yaml's
structure — three languages from three SWIM-IR sources, two of the four arms, two seeds, the converged budget
on dev splits, collections shared across benchmarks and languages, the overlap screen — run end to end
through `correlate` on small inputs laid out exactly as each real source (tests/workflow/rehearsal_sources.py),
with a tiny random BERT teacher. Offline: Hugging Face and ir_datasets find only the staged files.

Run it alone with `pytest tests/workflow/test_rehearsal.py` (a few minutes on 2 cores)."""

import csv
import json
import math
import time

import pytest
import yaml

from swimscale import data
from swimscale.retrieval._metrics import read_qrels
from tests.workflow import rehearsal_sources as sources
from tests.workflow.test_full_study import FULL, job_stats

LANGUAGES = ["bn", "yo", "bho", "hne"]  # hne: a zero-data control (N = 0 only)
METHODS = ["optical", "contrastive"]
SEEDS = [0, 1]
SIZES = {"bn": [0, 8], "yo": [0, 8], "bho": [0, 5800], "hne": [0]}
# What each language is reported on (role test) and chooses its students on (role dev).
TESTS = {"bn": ["clirmatrix-bn-en", "xtreme-up-bn"], "yo": ["clirmatrix-yo-en", "trec-yo"], "bho": ["xtreme-up-bho"],
         "hne": ["xtreme-up-hne"]}
DEVS = {"bn": "clirmatrix-bn-en-dev", "yo": "clirmatrix-yo-en-dev", "bho": "xtreme-up-bho-dev"}  # hne: not trained
# The collections: CLIRMatrix's English documents for every split, XTREME-UP's one index for every
# language and split, and the TREC benchmark's own corpus.
COLLECTIONS = {
    "clirmatrix-en": ["clirmatrix-bn-en", "clirmatrix-bn-en-dev", "clirmatrix-yo-en", "clirmatrix-yo-en-dev"],
    "xtreme-up": ["xtreme-up-bho", "xtreme-up-bho-dev", "xtreme-up-bn", "xtreme-up-hne"],
    "trec-yo": ["trec-yo"],
}
TEACHER = "tiny-bert"
OFFLINE = {"HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}
# Keys whose values the rehearsal scales down or points at local files.
SCALED = {"corpus_size", "max_queries", "url", "sizes", "seeds"}


def unscaled(entry: dict) -> dict:
    return {key: value for key, value in entry.items() if key not in SCALED}


def test_the_rehearsal_has_the_full_studys_structure():
    """The template follows config/full_study.yaml wherever it is not scaled down: a change there that
    the rehearsal does not follow fails here, not silently."""
    full, rehearsal = yaml.safe_load(FULL.read_text()), sources.template()
    assert rehearsal["languages"] == LANGUAGES and set(LANGUAGES) <= set(full["languages"])
    # Two of the four arms (the template says why), in the full study's order; two seeds.
    assert rehearsal["methods"] == METHODS == [m for m in full["methods"] if m in METHODS] and rehearsal["seeds"] == SEEDS
    assert set(rehearsal["train"]) == set(full["train"]) and rehearsal["train"]["budget"] == full["train"]["budget"]
    for key in ("trainable_layers", "freeze_embeddings", "teacher_tokens", "dropout", "eps", "tau", "lr",
                "warmup_steps", "min_passes", "eval_every_passes", "passes", "temperature"):
        assert rehearsal["train"][key] == full["train"][key], key
    for key in ("pooling", "normalize", "passage_format"):
        assert rehearsal["teacher"][key] == full["teacher"][key], key
    for code in ("bn", "bho", "hne"):  # the Hub pools and the control: the full study's entries
        assert unscaled(rehearsal["pools"][code]) == unscaled(full["pools"][code]), code
    assert max(rehearsal["pools"]["bho"]["sizes"]) == max(full["pools"]["bho"]["sizes"])  # "all of it"
    for name, bench in rehearsal["benchmarks"].items():
        if name in full["benchmarks"]:
            assert unscaled(bench) == unscaled(full["benchmarks"][name]), name
    assert {n for n, b in rehearsal["benchmarks"].items() if n not in full["benchmarks"]} == {"trec-yo"}
    for code in LANGUAGES:
        mine = {n: b.get("role", "test") for n, b in rehearsal["benchmarks"].items() if b["language"] == code}
        assert mine == {**dict.fromkeys(TESTS[code], "test"), **({DEVS[code]: "dev"} if code in DEVS else {})}, code


@pytest.fixture(scope="module")
def rehearsal(tmp_path_factory, snakemake):
    """(working directory, Snakemake's output): the rehearsal, run once to the end on 2 cores."""
    workdir = tmp_path_factory.mktemp("rehearsal")
    config = sources.stage(workdir / "input")
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("IR_DATASETS_HOME", raising=False)  # ir_datasets reads <data_dir>/ir_datasets
        start = time.monotonic()
        result = snakemake(workdir, "--replace-workflow-config", config=config, cores=2, env=OFFLINE, timeout=1800)
        seconds = time.monotonic() - start
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-6000:]
    print(f"rehearsal: {seconds:.0f} s on 2 cores")  # reported, never asserted (no wall-clock assertions)
    return workdir, result.stdout + result.stderr


def trained(code):
    return [(method, seed, size) for method in METHODS for seed in SEEDS for size in SIZES[code] if size > 0]


def expected_logs():
    """The log of every job the study needs, and of nothing else."""
    logs = {"correlate/correlate.log", "correlate/missing_runs.log", "correlate/moderator_values.log"}
    for code in LANGUAGES:
        logs |= {f"prepare/pool-{code}.log", f"validate/{code}.log"}
        logs |= {f"subsample/{code}/seed{seed}/n{size}.log" for _, seed, size in trained(code)}
        logs |= {f"train/{code}/{method}/seed{seed}/n{size}.log" for method, seed, size in trained(code)}
        # A trained student is searched in its training job (its log above); the untrained one per benchmark.
        logs |= {f"search/{code}/zero_shot/{bench}.log" for bench in TESTS[code]}
        # Their runs are scored apart (evaluate.smk): a job per trained student, one per benchmark at N = 0.
        logs |= {f"evaluate/{code}/{method}/seed{seed}/n{size}.log" for method, seed, size in trained(code)}
        logs |= {f"evaluate/{code}/zero_shot/{bench}.log" for bench in TESTS[code]}
    for collection, members in COLLECTIONS.items():
        logs |= {f"prepare/collection-{collection}.log", f"encode/{TEACHER}/{collection}.log",
                 f"index/{TEACHER}/{collection}.log"}
        logs |= {f"prepare/benchmark-{bench}.log" for bench in members}
    return logs


@pytest.mark.e2e
def test_every_stage_ran_for_every_language(rehearsal):
    workdir, output = rehearsal
    logs = workdir / "results" / "logs"
    assert {p.relative_to(logs).as_posix() for p in logs.rglob("*.log")} == expected_logs()
    failed = [p for p in logs.rglob("*.log") if "Traceback (most recent call last)" in p.read_text()]
    assert not failed and "Error in rule" not in output, failed
    for code in LANGUAGES:
        for method, seed, size in trained(code):
            log = json.loads((workdir / f"results/train/{code}/{method}/seed{seed}/n{size}/train_log.json").read_text())
            # Converged on the language's dev split, the budget in passes: evaluated at step 0 and then
            # after the first update that completes half a pass; stopped only after a whole pass.
            config, n, batch = log["config"], log["n_records"], log["batch_size"]
            first = math.ceil(config["eval_every_passes"] * n / batch)
            assert log["budget"] == "converged" and [step for step, _ in log["dev_curve"]][:2] == [0, first], (code, method)
            assert log["dev_recall_at_best"] == max(recall for _, recall in log["dev_curve"])
            assert log["stopped_by"] in ("patience", "min", "cap") and log["examples_seen"] == log["steps"] * batch
            assert log["passes"] >= config["min_passes"] or log["stopped_by"] == "cap", (code, method, log["passes"])
            assert log["passes_at_best"] == round(log["steps_at_best"] * batch / n, 4)


@pytest.mark.e2e
def test_one_encoding_per_collection_and_teacher(rehearsal):
    workdir, output = rehearsal
    stats = job_stats(output)
    assert stats["prepare_collection"] == stats["encode_corpus"] == stats["index"] == len(COLLECTIONS)
    assert stats["prepare_benchmark"] == sum(map(len, COLLECTIONS.values())) == 9
    encoded = sorted(p.parent.name for p in (workdir / "results" / "encode" / TEACHER).glob("*/corpus.npy"))
    assert encoded == sorted(COLLECTIONS)
    for collection, members in COLLECTIONS.items():
        manifest = json.loads((workdir / f"results/prepare/manifests/collection-{collection}.json").read_text())
        assert manifest["members"] == sorted(members)


def manifest(workdir, name):
    return json.loads((workdir / "results" / "prepare" / "manifests" / f"{name}.json").read_text())


@pytest.mark.e2e
def test_each_source_was_read_through_its_real_route(rehearsal):
    workdir, _ = rehearsal
    data_dir = workdir / "input" / "data"
    hub = data_dir / "swimir" / "swim-ir-cross-lingual"
    assert manifest(workdir, "pool-bn")["input"] == (
        f"{hub} (bn: train-00000-of-00002.parquet, train-00001-of-00002.parquet)")
    indic = data_dir / "swimir" / "indic-swim-ir-cross-lingual"
    assert manifest(workdir, "pool-bho")["input"] == f"{indic} (bho: train-00000-of-00001.parquet)"
    assert manifest(workdir, "pool-yo")["input"] == str(workdir / "input/swim_ir_v1/cross_lingual/yo/train.jsonl")
    # XTREME-UP: the tarball downloaded once and its retrieval task extracted, the other task left out.
    release = data_dir / "xtreme-up"
    assert (release / sources.XTREME_UP_ARCHIVE).is_file() and not (release / sources.XTREME_UP_TOP / "qa_in_lang").exists()
    task = release / sources.XTREME_UP_TOP / "retrieval_cross_lang"
    assert list(manifest(workdir, "collection-xtreme-up")["inputs"]) == [str(task / "index.jsonl")]
    assert manifest(workdir, "benchmark-xtreme-up-bho-dev")["queries_file"] == str(task / "validation" / "bho.jsonl")
    # CLIRMatrix: ir_datasets' own loaders on the files staged in <data_dir>/ir_datasets.
    clir = manifest(workdir, "benchmark-clirmatrix-bn-en")
    assert clir["id"] == "clirmatrix/en/bi139-base/bn/test1" and clir["ir_datasets_home"] == str(data_dir / "ir_datasets")
    assert clir["settings"]["min_relevance"] == 6 and clir["counts"]["queries"] == 3
    assert manifest(workdir, "collection-clirmatrix-en")["counts"]["corpus_documents"] == 60  # corpus_size
    assert manifest(workdir, "benchmark-trec-yo")["counts"]["queries"] == 5
    assert not (data_dir / "huggingface").exists()  # nothing came from the Hub


@pytest.mark.e2e
def test_planted_overlaps_are_dropped_and_counted(rehearsal):
    """Each planted pool passage is counted, per benchmark the language is evaluated on, as relevant
    where that benchmark's prepared qrels judge its document relevant (exactly, or as a near-duplicate),
    else as other when the document is in the collection; the planted query is counted against its
    benchmark; those relevant somewhere, and the query, never reach training."""
    workdir, output = rehearsal
    results = workdir / "results"
    for code in LANGUAGES:
        report = json.loads((results / "validate" / code / "report.json").read_text())
        planted = [docid for _, docid in sources.PLANTED.get(code, [])]
        query_bench = sources.PLANTED_QUERIES.get(code, (None, None))[1]
        expected, leaks = {}, set()
        for bench in [*TESTS[code], *([DEVS[code]] if code in DEVS else [])]:
            relevant = {d for docs in read_qrels(results / f"prepare/benchmarks/{bench}/qrels.txt").values() for d in docs}
            collection = next(c for c, members in COLLECTIONS.items() if bench in members)
            corpus, _ = data.read_corpus(results / f"prepare/collections/{collection}/corpus.jsonl")
            hits = [d for d in planted if d in relevant]
            leaks |= set(hits)
            near = [d for d in hits if d in sources.NEAR.get(code, set())]
            expected[bench] = {"relevant": len(hits), "other": len([d for d in planted if d in corpus and d not in relevant]),
                               "near_duplicate": len(near), "query": int(bench == query_bench)}
        overlap = report["overlap"]
        assert overlap["benchmarks"] == expected and overlap["mode"] == "drop", code
        queries = int(query_bench is not None)
        assert overlap["overlapping_relevant"] == len(leaks) and overlap["overlapping_queries"] == queries, code
        assert overlap["dropped"] == len(leaks) + queries, code
        read = 0 if code == "hne" else sources.POOL_RECORDS + len(planted) + queries
        assert overlap["pool_records_read"] == read
        validated = results / "validate" / code / "pool.jsonl"
        kept = {r["_id"] for r in data.read_pool(validated, code=code)} if read else set()  # hne: empty
        assert len(kept) == overlap["pool_records_kept"] == read - len(leaks) - queries
        assert validated.stat().st_size > 0 or code == "hne"
    # The leaks the fixture plants: XTREME-UP's gold passage p2 (bho), CLIRMatrix's 1006 (bn), and in yo a
    # near-duplicate of the TREC passage relevant to yo-q1 plus a copy of query yo-q2.
    assert json.loads((results / "validate/bho/report.json").read_text())["overlap"]["benchmarks"]["xtreme-up-bho"] == {
        "relevant": 1, "other": 1, "near_duplicate": 0, "query": 0}
    assert json.loads((results / "validate/bn/report.json").read_text())["overlap"]["dropped"] == 1
    yo = json.loads((results / "validate/yo/report.json").read_text())["overlap"]
    assert yo["near_duplicates"] == 1 and yo["dropped"] == 2 and yo["near_duplicate_jaccard"] == 0.7
    assert "validate bho: pool records whose passage is a benchmark document" in output
    # bho's whole (capped) pool trains: what validation kept, the leak left out.
    log = json.loads((results / "train/bho/optical/seed0/n5800/train_log.json").read_text())
    assert log["n_records"] == sources.POOL_RECORDS + 1


@pytest.mark.e2e
def test_recall_table_has_every_language_benchmark_method_size_and_seed(rehearsal):
    workdir, _ = rehearsal
    with open(workdir / "results" / "tables" / "recall.tsv") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    keys = sorted((r["language"], r["benchmark"], r["method"], int(r["size"]), int(r["seed"])) for r in rows)
    assert keys == sorted((code, bench, method, size, seed) for code in LANGUAGES for bench in TESTS[code]
                          for method in METHODS for size in SIZES[code] for seed in SEEDS)
    assert len(rows) == 44  # 40 of the trained languages, 4 N = 0 rows of the control hne
    for row in rows:
        assert 0.0 <= float(row["recall_at_50"]) <= 1.0 and int(row["n_queries"]) > 0
        assert (workdir / row["run_file"]).is_file()
        # What each student saw and why it stopped (N = 0: untrained, nothing seen).
        assert row["stopped_by"] in (("untrained",) if row["size"] == "0" else ("patience", "min", "cap"))
        assert (int(row["examples_seen"]) > 0) is (row["size"] != "0")  # bho's 5800 is its whole (capped) pool
        assert float(row["passes_at_best"]) >= 0 and int(row["steps_at_best"]) >= 0
    for name in ("correlation.tsv", "recall_by_size.tsv", "slopes.tsv", "learning_curves.tsv"):
        assert (workdir / "results" / "tables" / name).is_file()
    assert (workdir / "results" / "summary.md").read_text().strip()
    # The measured moderators: one row per (language, test benchmark), the control included.
    with open(workdir / "results" / "tables" / "moderator_values.tsv") as handle:
        moderators = list(csv.DictReader(handle, delimiter="\t"))
    assert sorted((r["language"], r["benchmark"]) for r in moderators) == sorted(
        (code, bench) for code in LANGUAGES for bench in TESTS[code])
    for row in moderators:
        assert float(row["fertility"]) > 0 and 0 <= float(row["unk_rate"]) <= 1 and row["script"]
        assert 0 <= float(row["zero_shot_recall_at_50"]) <= 1
