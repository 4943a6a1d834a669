"""perf/gpu_check.py's code paths, on CPU at tiny sizes (--dry-run): the report it will give on the GPU
machine, with the out-of-memory retry simulated."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_dry_run_reports_every_figure_and_retries_with_halved_micro_batches(tmp_path):
    out = tmp_path / "check.json"
    result = subprocess.run([sys.executable, str(ROOT / "perf" / "gpu_check.py"), "--dry-run", "--json", str(out)],
                            capture_output=True, text=True, timeout=600, env={**os.environ, "OMP_NUM_THREADS": "1", "CUDA_VISIBLE_DEVICES": ""})
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(out.read_text())
    assert report["mode"] == "dry-run" and report["environment"]["device"] == "cpu"
    assert "CUDA" in report["environment"]["require_device_problem"]

    assert [(e["model"], e["precision"]) for e in report["encode"]] == [
        ("all-MiniLM-L6-v2", "fp32"), ("tiny BERT (random)", "fp32"), ("tiny BERT (random)", "bf16 autocast")]
    assert [(e["pooling"], e["normalize"], e["max_length"]) for e in report["encode"]] == [
        ("mean", True, 128), ("cls", False, 256), ("cls", False, 256)]
    assert all(e["passages_per_s"] > 0 and e["peak_mib"] > 0 for e in report["encode"])
    assert report["encode"][2]["cosine_min_to_fp32"] > 0.99

    assert [t["batch_size"] for t in report["train"]] == [2, 4]
    assert all(t["examples_per_s"] > 0 and t["steps"] == 2 for t in report["train"])
    # The full model trains (every parameter but the pooler) with the teacher precomputed, as `auto` picks on CPU.
    assert {t["teacher_tokens"] for t in report["train"]} == {"precompute"}
    assert len({t["trained_parameters"] for t in report["train"]}) == 1 and report["train"][0]["trained_parameters"] > 0
    for agreement in report["bf16_vs_fp32"]:
        assert 0.99 < agreement["cosine_min"] <= 1.0 and agreement["loss_rel_diff"] < 0.01
        assert agreement["loss_fp32"] != 0
    assert 0 < report["transport_share"]["share"] < 1 and report["transport_share"]["teacher_on_the_fly_ms"] > 0
    # One read of the loss and its parts per update, every arm; transformers' padding check adds one per
    # model forward (the student's and the teacher's, on the fly).
    assert set(report["update_syncs"]) == {"optical", "optical_pooled", "pooled", "contrastive"}
    assert all(c["ours"] <= 1 and c["all"] <= 3 for c in report["update_syncs"].values()), report["update_syncs"]
    # A measured update against the plan's estimate for the same configuration (the cpu row in a dry run).
    plan = report["plan"]
    assert plan["device_row"] == "cpu" and plan["batch_size"] == 2 and "wrote_row" not in plan
    assert plan["update_ms_measured"] > 0 and plan["update_ms_planned"] > 0 and plan["efficiency_measured"] > 0
    assert plan["job_overhead"]["total_s"] >= plan["job_overhead"]["imports_s"] > 0
    assert "planned" in result.stdout
    # The update as the study runs it (train.compile: auto, eager on the CPU), timed after warm-up, per
    # teacher mode, against the plan's estimate for the same configuration.
    updates = report["measured_update"]
    assert [u["teacher_tokens"] for u in updates] == ["precompute", "on_the_fly"]
    assert all(u["update_ms_measured"] > 0 and u["update_ms_planned"] > 0 and u["device_row"] == "cpu"
               for u in updates)
    assert updates[1]["update_ms_planned"] > updates[0]["update_ms_planned"]  # the teacher's forward
    assert {u["compile"] for u in updates} == {"eager (train.compile auto on cpu)"}
    assert result.stdout.count("measured update (CUDA events on a GPU, after warm-up)") == 2

    oom = report["oom_retry"]
    assert oom["simulated"] and oom["exercised"]
    assert [(a["micro_batch"], a["result"]) for a in oom["attempts"]] == [
        (8, "out of memory"), (4, "out of memory"), (2, "finished")]
    assert oom["finished_at_micro_batch"] == 2 and len(oom["attempts"][-1]["loss"]) == 2
    assert "OOM retry (batch 8" in result.stdout and "attempt 3 micro 2: finished" in result.stdout


def test_training_settings_are_the_full_studys_for_the_full_model_and_a_fixed_number_of_updates():
    sys.path.insert(0, str(ROOT / "perf"))
    import yaml
    from gpu_check import MDPR, STUDY, teacher_settings, train_config

    cfg = train_config(32, 7)
    study = yaml.safe_load(STUDY.read_text())
    assert (cfg.budget, cfg.max_steps, cfg.min_steps, cfg.batch_size) == ("fixed", 7, 0, 32)
    assert cfg.trainable_layers is None and cfg.freeze_embeddings is False
    teacher = teacher_settings("bundled:all-MiniLM-L6-v2", MDPR, 8)  # how train() encodes the counterparts
    assert (teacher.pooling, teacher.max_length) == (study["teacher"]["pooling"], study["teacher"]["max_length"])
    assert (cfg.lr, cfg.eps, cfg.tau, cfg.max_length) == tuple(study["train"][k] for k in ("lr", "eps", "tau", "max_length"))


def test_micro_batch_halves_per_attempt_as_the_train_rule_does():
    sys.path.insert(0, str(ROOT / "perf"))
    from gpu_check import micro_batch

    assert [micro_batch(32, attempt) for attempt in (1, 2, 3, 7)] == [32, 16, 8, 1]
    rule = " ".join((ROOT / "workflow/rules/train.smk").read_text().split())  # its layout aside
    assert 'micro_batch( wc.method, config["train"]["batch_size"], attempt )' in rule  # the same function
