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

ROOT = Path(__file__).resolve().parents[2]
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


def measured(pool, sizes, corpus, rss):
    """A perf/scale.py measurement whose jobs' RSS is `rss(job, driver)`."""
    drivers = {"prepare_pool": pool, "validate": pool, "prepare_benchmark": corpus, "encode_corpus": corpus,
               "index": corpus, "search_zero_shot": corpus, "teacher_tokens": sizes[-1], "evaluate": 1, "correlate": 1}
    jobs = [{"job": rule, "rule": rule, "wildcards": {}, "complete": True, "seconds": 1.0,
             "peak_rss_mib": rss(rule, x), "output_mib": x / 1000} for rule, x in drivers.items()]
    for rule in ("subsample", "train", "search_student"):
        for n in sizes[1:]:
            x = corpus if rule == "search_student" else n
            jobs.append({"job": f"{rule} n={n}", "rule": rule, "wildcards": {"size": str(n)}, "complete": True,
                         "seconds": 1.0, "peak_rss_mib": rss(rule, x), "output_mib": x / 1000})
    return {"pool": pool, "sizes": sizes, "corpus": corpus, "queries": 1000, "jobs": jobs,
            "disk_mib": {"input_snapshot": pool / 1000, "input_corpus": 1, "hf_cache": pool / 500, "results": 1}}


def test_a_linear_footprint_is_extrapolated_exactly():
    rss = lambda rule, x: 150 + x / 1000  # noqa: E731 - 1 MiB per thousand of the job's driver
    measurements = [measured(10_000, [0, 1000, 10_000], 2222, rss), measured(100_000, [0, 1000, 100_000], 22222, rss)]
    a, b, scales, largest = footprint_model.fit(measurements, "prepare_pool", lambda m: m["pool"])
    assert (a, b, scales, largest) == (pytest.approx(150), pytest.approx(0.001), [10_000, 100_000], 100_000)
    result = footprint_model.extrapolate(measurements, ROOT / "config" / "full_study.yaml")
    rows = {row["job"]: row for row in result["memory_mib"]}
    assert rows["prepare_pool"]["tiny_mib"] == round(150 + footprint_model.SWIMIR_POOL / 1000)
    assert rows["prepare_pool"]["how"].startswith("fitted (pools 10,000 and 100,000)")
    assert rows["subsample n=N_max"]["tiny_mib"] == 150 + 256
    # The index holds the corpus's 768-wide float32 vectors twice more than the tiny model's 32-wide ones.
    index = rows["index"]
    assert index["mdpr_mib"] - index["tiny_mib"] == round(2 * 200_000 * 4 * (768 - 32) / 2**20)
    assert result["gpu"]["train_steps"] > 0 and result["gpu"]["train_gpu_hours_at_step_ms"][20] > 0 and result["disk"]["per_corpus_mib"]["passages"] == 200_000


def test_gpu_hours_count_every_step_of_the_sweep():
    study = {"languages": ["aa", "bb"], "trained": {"aa": [100, 64_000], "bb": [100]}, "seeds": 3, "methods": 1,
             "batch": 32, "steps": lambda n: max(300, min(10_000, -(-n // 32))), "benchmarks": {"aa": ["x"], "bb": ["x"]},
             "corpora": {"x": 1000}}
    result = footprint_model.gpu_hours(study, None)
    assert result["train_steps"] == 3 * (300 + 2000) + 3 * 300
    flops = result["train_examples"] * (3 * footprint_model.forward_flops(MDPR_SHAPE, 20)
                                        + footprint_model.forward_flops(MDPR_SHAPE, 126))
    assert result["train_gpu_hours_flops"] >= round(flops / (790e12 * 0.3) / 3600, 2)
    gpu = {"train": [{"batch_size": 32, "examples_per_s": 1000.0}],
           "encode": [{"model": "mDPR-shaped BERT (random)", "precision": "fp32", "passages_per_s": 500.0}]}
    measured_rates = footprint_model.gpu_hours(study, gpu)
    assert measured_rates["train_gpu_hours_measured"] == round(result["train_examples"] / 1000 / 3600, 2)
    assert measured_rates["encode_gpu_hours_measured"] == round(1000 / 500 / 3600, 2)


def test_synthetic_text_has_swimir_lengths():
    maker = TextMaker([f"w{i}" for i in range(1000)], seed=0)
    records = pool_records(maker, 500)
    passage_words = sum(len(r["text"].split()) for r in records) / 500
    query_words = sum(len(r["query"].split()) for r in records) / 500
    assert 90 < passage_words < 100 and 9 < query_words < 11
    assert len({r["_id"] for r in records}) == 500
