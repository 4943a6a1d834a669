"""Inputs that change and inputs that are wrong, through the real workflow: every user file is a declared
input (an edit re-runs exactly what read it), broken judgements stop the benchmark's job, and a training
passage that is a relevant benchmark document is left out of training and counted where the user sees it."""

import json
import re

import yaml

from tests.data.test_validation import lay_yo, write_config, yo_config, yo_records

REPORT = "results/validate/yo/report.json"
QRELS = "results/prepare/benchmarks/yo-local/qrels.txt"


def planned(output):
    """{rule: jobs} of a dry run's job stats ({} when there is nothing to do)."""
    if "Job stats:" not in output:
        return {}
    table = output[output.index("Job stats:"):]
    return {m.group(1): int(m.group(2)) for m in re.finditer(r"^(\w+)\s+(\d+)$", table, re.M) if m.group(1) != "total"}


def planted(files):
    """yo's release with two passages that are benchmark documents: record 4 is d2 (relevant to q2, up
    to case and punctuation), record 6 is d7 (a document no query is judged on)."""
    records = yo_records()
    records[3]["text"] = "Passage 2."
    records[5]["text"] = "passage   7"
    files["pool"].write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")


def test_planted_overlap_is_dropped_and_edits_rerun_what_read_them(tmp_path, workflow, tiny_config):
    files = lay_yo(tmp_path)
    planted(files)
    config = yo_config(tmp_path, tiny_config, files)
    work = tmp_path / "work"
    work.mkdir()
    returncode, output = workflow(work, config, REPORT)
    assert returncode == 0, output[-3000:]
    report = json.loads((work / REPORT).read_text())
    assert report["overlap"]["benchmarks"] == {"yo-local": {"relevant": 1, "other": 1, "near_duplicate": 0, "query": 0}}
    assert report["overlap"]["dropped"] == 1 and report["pool_records"] == 39
    kept = [json.loads(line)["_id"] for line in (work / "results/validate/yo/pool.jsonl").read_text().splitlines()]
    assert "yo-3" not in kept and "yo-5" in kept  # the relevant one never reaches training
    assert "validate yo: pool records whose passage is a benchmark document or whose query is a benchmark query " \
           "(yo-local: 1 relevant (0 near-duplicates), 1 other, 0 queries); 1 left out of training " \
           "(pools.yo.overlap: drop)" in output
    assert "Nothing to be done" in workflow(work, config, REPORT, "-n")[1]
    # The user's qrels edited: its benchmark is prepared again, nothing else (validate reads a test
    # benchmark's judgements through ancient(): the evaluate jobs check them against what the screen saw).
    files["qrels"].write_text(files["qrels"].read_text().replace("q0 0 d0 1", "q0 0 d0 2"))
    assert planned(workflow(work, config, REPORT, "-n")[1]) == {"prepare_benchmark": 1}
    # The SWIM-IR release edited: its pool is prepared again.
    files["pool"].write_text(files["pool"].read_text() + json.dumps({**yo_records(41)[40]}) + "\n")
    assert planned(workflow(work, config, REPORT, "-n")[1]) == {"prepare_benchmark": 1, "prepare_pool": 1, "validate": 1}
    # The corpus edited: the collection, then every benchmark searching it.
    files["corpus"].write_text(files["corpus"].read_text() + json.dumps({"docid": "d10", "text": "new"}) + "\n")
    assert planned(workflow(work, config, REPORT, "-n")[1]) == {"prepare_collection": 1, "prepare_benchmark": 1,
                                                           "prepare_pool": 1, "validate": 1}


def test_broken_judgements_stop_the_benchmark_unless_dropped(tmp_path, workflow, tiny_config):
    """The reported case: qrels naming documents in another case (D1 against d1) left 1 query of 5, exit 0."""
    files = lay_yo(tmp_path)
    files["qrels"].write_text("".join(f"q{i} 0 D{i} 1\n" for i in range(1, 5)) + "q0 0 d0 1\n")
    work = tmp_path / "work"
    work.mkdir()
    returncode, output = workflow(work, yo_config(tmp_path, tiny_config, files), QRELS)
    assert returncode != 0
    assert (f"prepare_benchmark yo-local: {files['qrels']}: line 1: document 'D1' is not in the collection "
            "results/prepare/collections/yo-local/corpus.jsonl (the collection has 'd1'") in output
    assert not (work / QRELS).exists()
    # drop: the job fails above the share of lost queries (4 of 5), saying how many and why
    config = yaml.safe_load(yo_config(tmp_path, tiny_config, files).read_text())
    config["benchmarks"]["yo-local"]["on_bad_judgement"] = "drop"
    returncode, output = workflow(work, write_config(tmp_path, config), QRELS)
    assert returncode != 0 and "benchmark 'yo-local': 4 of 5 queries lost to bad judgements (unknown_document 4)" in output
    # ... and below it passes, printing what it dropped
    files["qrels"].write_text("".join(f"q{i} 0 d{i} 1\n" for i in range(4)) + "q4 0 D4 1\n")
    config["benchmarks"]["yo-local"]["max_lost_queries"] = 0.2
    returncode, output = workflow(work, write_config(tmp_path, config), QRELS)
    assert returncode == 0, output[-3000:]
    assert "prepare_benchmark yo-local: dropped 1 unknown_document; 1 of 5 queries lost" in output
    manifest = json.loads((work / "results/prepare/manifests/benchmark-yo-local.json").read_text())
    assert manifest["dropped"]["unknown_document"] == 1 and manifest["counts"]["queries"] == 4
