"""Training throughput: the achieved GFLOP/s of a training step next to this machine's matmul GFLOP/s,
measured in the same run, for the students the config can ask for; and how a run gets its teacher tokens.

Real all-MiniLM-L6-v2 (bundled), real Chichewa/English Bible pairs, OPTICAL (balanced transport), the
library's own update (``swimscale.model._train._Training.step``: forward, loss, backward, clip, AdamW).

- matmul peak: the best of 10 2048³ float32 matrix products, before and after the updates (the higher
  counts), and one of the model's own GEMM shapes;
- per student variant — full fine-tuning with the model's dropout (the full study's default), without
  dropout, with frozen word embeddings, and only the top layer on cached lower-layer states (the demo):
  the median update time, its FLOPs (counted by ``torch.utils.flop_counter`` on one real update, forward
  and backward, on the padded batch as it runs), achieved GFLOP/s and share of the matmul peak,
  examples/s, tokens/s (real tokens, padding excluded) — the figure to read on CUDA — and the share of
  the padded batch that is real tokens (FLOPs on padding count as executed, so read GFLOP/s beside it);
- teacher tokens: CPU seconds per record of precomputing (once per run) against the per-update cost of
  computing them on the fly (``train.teacher_tokens``).

    python perf/speed_train.py [--threads 2] [--steps 8] [--batch-size 16] [--max-length 96] [--json out.json]

`--threads 1` is how the workflow trains here (train.smk: `threads: 1`, two jobs at once on two cores);
the matmul peak is then one thread's. On a shared machine the figures are upper bounds on time (lower
bounds on GFLOP/s): run it alone.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time

from swimscale.jobs import set_job_environment

set_job_environment()  # idle OpenMP threads sleep (before torch loads OpenMP), as in every job

import torch  # noqa: E402
from torch.utils.flop_counter import FlopCounterMode  # noqa: E402

from swimscale import data  # noqa: E402
from swimscale.config import TeacherSettings, TrainSettings, defaults  # noqa: E402
from swimscale.model import TeacherEncoder, TeacherOnTheFly, build_teacher_cache, device, load_encoder  # noqa: E402
from swimscale.model._train import _Training  # noqa: E402

# The demo teacher: documents (counterparts) up to 128 tokens, mean pooling, no-gradient passes of 64.
TEACHER = TeacherSettings.from_section({**defaults("teacher"), "name": "minilm-l6", "model": "bundled:all-MiniLM-L6-v2",
                                        "max_length": 128, "pooling": "mean", "batch_size": 64})
VARIANTS = {
    "full fine-tuning, dropout 0.1 (the model's own)": {},
    "full, dropout 0": {"dropout": 0.0},
    "full, dropout 0, word embeddings frozen": {"dropout": 0.0, "freeze_embeddings": True},
    "top layer on cached states, dropout 0 (demo)": {"dropout": 0.0, "freeze_embeddings": True, "trainable_layers": 1},
}


def bible_pairs(n: int) -> list[dict]:
    ny_dir, kjv_path = data.bundled_bible_paths()
    kjv, _ = data.read_kjv(kjv_path)
    aligned, _ = data.align_bibles(data.read_chichewa(ny_dir), kjv)
    random.Random(0).shuffle(aligned)
    return [{"_id": v.key, "query": v.source, "text": v.english, "query_en": v.english} for v in aligned[:n]]


def synchronise() -> None:
    if torch.cuda.is_available():
        torch.cuda.synchronize()


def matmul_gflops(n: int = 2048, repeats: int = 10, shape: tuple[int, int, int] | None = None) -> float:
    """GFLOP/s of a float32 matrix product (n × n by n × n, or `shape` = (m, k, n)), the best of `repeats`:
    a peak (the median of a few moved by 30 % between runs on this shared machine)."""
    m, k, n = shape or (n, n, n)
    a = torch.randn(m, k, device=device())
    b = torch.randn(k, n, device=device())
    a @ b
    times = []
    for _ in range(repeats):
        synchronise()
        start = time.perf_counter()
        a @ b
        synchronise()
        times.append(time.perf_counter() - start)
    return 2 * m * k * n / min(times) / 1e9


def step_figures(records: list[dict], overrides: dict, args) -> dict:
    """Median update time and FLOPs of one student variant (the library's own update)."""
    settings = {**defaults("train"), "budget": "fixed", "max_steps": 10**6, "batch_size": args.batch_size,
                "max_length": args.max_length, "group_by_length": args.group, "teacher_tokens": "precompute",
                **overrides}
    cfg = TrainSettings.from_section(settings)
    run = _Training(records, TEACHER, cfg, 0, "optical", None, None)
    run.step()  # warm-up
    counter = FlopCounterMode(display=False)
    with counter:
        run.step()
    flops = counter.get_total_flops()
    times, tokens, padded = [], [], []
    for _ in range(args.steps):
        batch = [run.records[i] for i in run.stream.pending[: run.batch_size]]
        # The batch as the student reads it (token ids or prefix states): its real and padded tokens.
        mask = run.encoder.inputs.batch([r["_id"] for r in batch], "cpu")["attention_mask"]
        tokens.append(int(mask.sum()) if len(batch) == run.batch_size else None)
        padded.append(mask.numel() if len(batch) == run.batch_size else None)
        synchronise()
        start = time.perf_counter()
        run.step()
        synchronise()
        times.append(time.perf_counter() - start)
    seconds = statistics.median(times)
    real_tokens = statistics.median([t for t in tokens if t is not None] or [0])
    full = [(t, p) for t, p in zip(tokens, padded) if t is not None]
    return {"seconds": seconds, "gflop": flops / 1e9, "gflops": flops / seconds / 1e9,
            "examples_per_second": run.batch_size / seconds, "tokens_per_second": real_tokens / seconds,
            "real_token_share": sum(t for t, _ in full) / max(1, sum(p for _, p in full)),
            "trained_parameters": run.log["trained_parameters"]}


def teacher_token_costs(records: list[dict], batch_size: int) -> dict:
    """CPU seconds per record of precomputing the teacher's view once, and per update on the fly."""
    tokenizer, model = load_encoder(TEACHER.model)
    teacher = TeacherEncoder(tokenizer, model, TEACHER)
    start = time.process_time()
    build_teacher_cache(teacher, records, passages=False)
    precompute = (time.process_time() - start) / len(records)
    on_the_fly = TeacherOnTheFly(teacher)
    n_batches = max(1, len(records) // batch_size)
    start = time.process_time()
    for i in range(n_batches):
        on_the_fly.batch(records[i * batch_size : (i + 1) * batch_size], device())
    per_update = (time.process_time() - start) / n_batches
    return {"precompute_cpu_seconds_per_record": precompute, "on_the_fly_cpu_seconds_per_update": per_update,
            "break_even_updates_per_record": precompute / per_update}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--max-length", type=int, default=96)
    parser.add_argument("--group", type=int, default=0, help="train.group_by_length of the runs (0: random batches)")
    parser.add_argument("--pairs", type=int, default=256)
    parser.add_argument("--json", help="also write the figures here")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    records = bible_pairs(args.pairs)
    before = matmul_gflops()
    shaped = matmul_gflops(shape=(args.batch_size * 64, 384, 1536))
    results = {name: step_figures(records, overrides, args) for name, overrides in VARIANTS.items()}
    after = matmul_gflops()
    peak = max(before, after)
    print(f"torch {torch.__version__}, {device()}, {args.threads} thread(s); batch {args.batch_size}, "
          f"max length {args.max_length}, group_by_length {args.group}, median of {args.steps} updates")
    print(f"matmul peak (2048³ float32, best of 10): {before:.0f} GFLOP/s before the updates, {after:.0f} after "
          f"(shares are of {peak:.0f}); the model's FFN GEMM shape ({args.batch_size * 64}×384 by 384×1536): "
          f"{shaped:.0f} GFLOP/s")
    figures = {"device": str(device()), "threads": args.threads, "matmul_gflops": peak, "matmul_gflops_before": before,
               "matmul_gflops_after": after, "ffn_gemm_gflops": shaped, "variants": {}}
    print(f"{'student':<52} {'update':>8} {'GFLOP':>6} {'GFLOP/s':>8} {'of peak':>8} {'ex/s':>6} {'tokens/s':>9} "
          f"{'real':>5}")
    for name, result in results.items():
        figures["variants"][name] = {**result, "share_of_peak": result["gflops"] / peak}
        print(f"{name:<52} {result['seconds'] * 1000:>6.0f}ms {result['gflop']:>6.1f} {result['gflops']:>8.1f} "
              f"{result['gflops'] / peak:>8.0%} {result['examples_per_second']:>6.1f} {result['tokens_per_second']:>9.0f} "
              f"{result['real_token_share']:>5.0%}")
    costs = teacher_token_costs(records, args.batch_size)
    figures["teacher_tokens"] = costs
    print(f"teacher tokens: precompute {costs['precompute_cpu_seconds_per_record'] * 1000:.1f} CPU ms per record "
          f"(once per run); on the fly {costs['on_the_fly_cpu_seconds_per_update'] * 1000:.0f} CPU ms per update; "
          f"precomputing wins once a run makes more than {costs['break_even_updates_per_record']:.3f} updates "
          "per record")
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(figures, handle, indent=1)


if __name__ == "__main__":
    main()
