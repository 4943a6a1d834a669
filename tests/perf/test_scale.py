"""perf/scale.py's probe and perf/footprint_model.py's arithmetic (the workflow runs themselves take
minutes: `python perf/scale.py --quick`)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch
import yaml

ROOT = Path(__file__).resolve().parents[2]
FULL = ROOT / "config" / "full_study.yaml"
sys.path.insert(0, str(ROOT / "perf"))

import footprint_model  # noqa: E402
import scale  # noqa: E402
from synthetic import MDPR_SHAPE, TINY_SHAPE, TextMaker, pool_records  # noqa: E402


def test_parameter_counts_match_transformers_bert():
    from transformers import BertConfig, BertModel

    for shape in (MDPR_SHAPE, TINY_SHAPE):
        with torch.device("meta"):
            model = BertModel(BertConfig(**shape))
        counts = footprint_model.parameters(shape)
        assert counts["embedding"] + counts["non_embedding"] == sum(p.numel() for p in model.parameters())
    assert round(footprint_model.weights_mib(MDPR_SHAPE)) == 678  # 177.9M parameters x 4 bytes


def test_forward_flops_match_torch_flop_counter():
    from torch.utils.flop_counter import FlopCounterMode
    from transformers import BertConfig, BertModel

    with torch.device("meta"):
        model = BertModel(BertConfig(**MDPR_SHAPE), add_pooling_layer=False)
        ids = torch.zeros(1, 128, dtype=torch.long)
    with FlopCounterMode(display=False) as counter:
        model(input_ids=ids)
    assert footprint_model.forward_flops(MDPR_SHAPE, 128) == pytest.approx(counter.get_total_flops(), rel=0.02)


def test_the_probe_records_a_jobs_peak_rss_and_outputs(tmp_path):
    """A process that looks like a Snakemake job (a `snakemake` object in __main__) and holds 300 MiB."""
    hook = tmp_path / "hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(scale.HOOK)
    out = tmp_path / "out.bin"
    job = textwrap.dedent(f"""
        from types import SimpleNamespace
        class Wildcards(dict):
            pass
        snakemake = SimpleNamespace(rule="train", wildcards=Wildcards(size="1000", seed="0"), output=[{str(out)!r}])
        held = bytearray(300 * 2**20)
        open({str(out)!r}, "wb").write(bytes(4096))
    """)
    probe = tmp_path / "probe.jsonl"
    env = {**os.environ, "SWIMSCALE_RSS_LOG": str(probe), "PYTHONPATH": str(hook)}
    # Started by a parent that holds 800 MiB, as Snakemake (smaller) starts jobs: the job's own peak
    # is recorded, not the high-water mark Linux carries across fork and exec.
    parent = f"import subprocess, sys\nbig = bytearray(800 * 2**20)\nsubprocess.run([sys.executable, '-c', {job!r}], check=True)"
    subprocess.run([sys.executable, "-c", parent], env=env, check=True, timeout=120)
    (line,) = probe.read_text().splitlines()  # the parent is not a job: one line
    entry = json.loads(line)
    assert entry["outputs"] == {str(out): 4096} and entry["ru_maxrss_kib"] > 800 * 1024
    (job_figures,) = scale.read_jobs(probe)
    assert job_figures["job"] == "train n=1000" and job_figures["complete"]
    assert 300 < job_figures["peak_rss_mib"] < 600


def job(rule, size=None, rss=100.0, outputs=None, tag="", **wildcards):
    if size is not None:
        wildcards["size"] = str(size)
    outputs = outputs or {"out": 1.0}
    return {"job": scale.job_label({"rule": rule, "wildcards": wildcards}, tag), "rule": rule, "wildcards": wildcards,
            "tag": tag, "complete": True, "seconds": 1.0, "peak_rss_mib": rss, "output_mib": sum(outputs.values()),
            "outputs_mib": outputs}


def measured(pool, corpus, rss, precompute_extra=None):
    """A perf/scale.py measurement of every job type whose RSS is `rss(rule, pool, n, corpus)`."""
    sizes = [0, 1000, min(256_000, pool)]
    jobs = [job("validate", rss=rss("validate", pool, 0, corpus), outputs={"pool.jsonl": 1.0, "report.json": 0.01})]
    jobs += [job(rule, rss=rss(rule, pool, 0, corpus)) for rule in
            ("prepare_pool", "prepare_collection", "encode_corpus", "index", "search_zero_shot", "correlate",
             "missing_runs")]
    jobs += [job("prepare_benchmark", rss=rss("prepare_benchmark", pool, 0, corpus), benchmark=b) for b in ("x", "x-dev")]
    for n in sizes[1:]:
        jobs += [job(rule, n, rss(rule, pool, n, corpus), {"a.jsonl": n / 1000, "train_log.json": 0.02})
                 for rule in ("subsample", "train")]
    if precompute_extra is not None:
        jobs.append(job("train", sizes[-1], rss("train", pool, sizes[-1], corpus) + precompute_extra, tag="precompute"))
    return {"pool": pool, "sizes": sizes, "corpus": corpus, "passage_tokens": 98.0, "jobs": jobs,
            "disk_mib": {"input_snapshot": pool / 1000, "input_benchmarks": 1, "data_dir": 0, "results": 1}}


def linear(rule, pool, n, corpus):
    """1 MiB per 1,000 pool records (data jobs), 2 per 1,000 N (subsample, train), 5 per 1,000 passages."""
    drivers = footprint_model.DRIVERS[rule]
    return 150 + pool / 1000 * ("pool" in drivers and rule != "train") + n / 500 * ("n" in drivers) \
        + corpus / 200 * ("corpus" in drivers)


SCALED = [measured(10_000, 2222, linear), measured(100_000, 22_222, linear), measured(900_000, 22_222, linear)]


def test_each_jobs_drivers_are_fitted_exactly_and_evaluated_at_the_full_study():
    train = footprint_model.fit(SCALED, "train")
    # The pool is a driver of train: its fitted slope is zero (flat in the pool), N's and the corpus's found.
    assert train["per_1000"] == {"pool": pytest.approx(0, abs=1e-6), "n": pytest.approx(2), "corpus": pytest.approx(5)}
    assert footprint_model.fit(SCALED, "prepare_pool")["per_1000"] == {"pool": pytest.approx(1)}
    rows = {r["job"]: r for r in footprint_model.extrapolate(SCALED, FULL)["memory_mib"]}
    assert rows["prepare_pool"]["tiny_mib"] == round(150 + footprint_model.SWIMIR_POOL / 1000)
    assert rows["prepare_pool"]["how"] == "measured"  # the 900k pool is within 2 % of 909,748
    assert rows["subsample n=256k"]["tiny_mib"] == round(150 + footprint_model.SWIMIR_POOL / 1000 + 512)
    on_the_fly = rows["train n=256,000, on the fly (GPU)"]
    assert on_the_fly["tiny_mib"] == round(150 + 512 + 1000)  # 200k passages of the dev collection: 1,000 MiB
    assert on_the_fly["how"].startswith("fitted over 6 runs")  # the corpus of 200k never ran
    # The dev collection's embeddings and, for the searches that end the job, the test collection's index, at
    # width 768 instead of 32; three copies of mDPR's weights; CUDA's host memory.
    extra = 2 * 200_000 * 4 * 736 / 2**20 + 3 * footprint_model.weights_mib(MDPR_SHAPE) + footprint_model.CUDA_HOST_MIB
    assert on_the_fly["mdpr_mib"] == round(on_the_fly["tiny_mib"] + extra)
    index = rows["index"]
    assert index["mdpr_mib"] - index["tiny_mib"] == round(2 * 200_000 * 4 * 736 / 2**20)


def test_precomputed_tokens_are_counted_in_copies_of_the_runs_token_states():
    one_copy = 10_000 * (98 + 2) * 32 * 4 / 2**20  # N x (tokens + 2 pooled vectors) x width x 4 bytes
    measurements = [measured(10_000, 2222, linear, precompute_extra=2 * one_copy)]
    copies = footprint_model.precompute_copies(measurements)
    assert copies["n"] == 10_000 and copies["copies"] == pytest.approx(2, abs=0.01)
    rows = {r["job"]: r for r in footprint_model.memory(SCALED[:2] + measurements,
                                                      footprint_model.full_study(FULL))}
    gap = rows["train n=256,000, precompute"]["mdpr_mib"] - rows["train n=256,000, on the fly (GPU)"]["mdpr_mib"]
    tokens = 2 * 256_000 * (footprint_model.COUNTERPART_TOKENS + 2) * 768 * 4 / 2**20
    assert gap == pytest.approx(tokens - footprint_model.CUDA_HOST_MIB, abs=2)


def test_gpu_hours_count_every_run_and_the_bounds_of_the_converged_budget():
    study = footprint_model.full_study(FULL)
    result = footprint_model.gpu_hours(study)
    config = yaml.safe_load(FULL.read_text())
    trained = sum(len([n for n in (config["pools"][c].get("sizes") or config["sizes"]) if n > 0])
                  for c in config["languages"])
    assert result["train_runs"] == trained * len(config["seeds"]) * len(config["methods"])
    train = config["train"]
    assert footprint_model.updates_per_run(study["train"], 100) == {
        "least": max(train["min_steps"], train["patience"] * train["eval_every"]), "most": train["max_steps"]}
    assert result["most"]["updates"] == result["train_runs"] * train["max_steps"]
    flops = 32 * (3 * footprint_model.forward_flops(MDPR_SHAPE, 20) + footprint_model.forward_flops(MDPR_SHAPE, 133))
    assert result["update_tflop"] == round(flops / 1e12, 3)
    assert result["least"]["gpu_hours_flop_bound"] < result["most"]["gpu_hours_flop_bound"]


def test_disk_counts_the_measured_bytes_per_record_at_the_full_studys_sizes():
    d = footprint_model.disk(SCALED, footprint_model.full_study(FULL))
    # prepare_pool wrote 1 MiB ("out") for 900k records in the fake measurement.
    assert d["per_language_mib"]["prepare/pools JSONL"] == round(footprint_model.SWIMIR_POOL / 900_000)
    assert d["per_running_train_job_mib"]["checkpoint: trained parameters, AdamW's two moments, best student"] \
        == round(4 * footprint_model.weights_mib(MDPR_SHAPE))
    assert d["per_corpus_mib"]["embeddings (float32, 768)"] == round(200_000 * 768 * 4 / 2**20)


def test_sweep_comparison_pairs_the_same_jobs_of_both_sweeps():
    small = {"jobs": [job("train", 100, 500.0), job("validate", rss=80.0)]}
    large = {"jobs": [job("train", 100, 520.0), job("validate", rss=75.0), job("train", 6000, 900.0)]}
    comparison = scale.compare_sweeps(small, large)
    assert comparison["shared"]["train n=100"] == {"small": 500.0, "large": 520.0, "diff": 20.0}
    assert comparison["only_in_large"] == ["train n=6000"] and comparison["only_in_small"] == []
    assert (comparison["largest_diff_job"], comparison["largest_abs_diff_mib"]) == ("train n=100", 20.0)


def test_the_rehearsal_config_is_a_valid_study_with_the_full_studys_training_settings(tmp_path):
    from swimscale.config import validated

    inputs = {"snapshot": tmp_path / "snap", "teacher": tmp_path / "bert",
              "benchmarks": {name: {"queries": "q.tsv", "corpus": "c.jsonl", "qrels": "r.txt"}
                             for name in (scale.BENCHMARK, scale.DEV_BENCHMARK)}}
    config = validated(scale.study_config(tmp_path, [0, 100], inputs, "precompute"))
    full = validated(yaml.safe_load(FULL.read_text()))
    for key in ("batch_size", "max_length", "trainable_layers", "freeze_embeddings", "budget"):
        assert config["train"][key] == full["train"][key]
    assert config["teacher"]["max_length"] == full["teacher"]["max_length"] and config["train"]["teacher_tokens"] == "precompute"
    assert config["benchmarks"][scale.DEV_BENCHMARK]["role"] == "dev"


def test_synthetic_text_has_swimir_lengths():
    maker = TextMaker([f"w{i}" for i in range(1000)], seed=0)
    records = pool_records(maker, 500)
    passage_words = sum(len(r["text"].split()) for r in records) / 500
    query_words = sum(len(r["query"].split()) for r in records) / 500
    assert 90 < passage_words < 100 and 9 < query_words < 11
    assert len({r["_id"] for r in records}) == 500
