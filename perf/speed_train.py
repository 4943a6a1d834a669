"""What the optimal transport adds to a student training step, on real data.

Real all-MiniLM-L6-v2 (bundled), real Chichewa/English Bible pairs; AdamW steps at the default
settings (max 64 tokens, ε = 0.02, ≤ 50 Sinkhorn iterations). Times steps with and without the
transport term, interleaved, the transport's own forward + backward inside the step (its share of the
step is the figure to watch: whole-step differences drown in noise on a shared machine), and the
Sinkhorn alone in both numerical domains.

    python perf/speed_train.py [--threads 2] [--steps 6] [--batch-sizes 16 32]
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from swimscale import data
from swimscale.config import defaults
from swimscale.model import (
    TrainConfig,
    build_teacher_cache,
    cosine_cost,
    load_encoder,
    mean_pool,
    optical_loss,
    sinkhorn,
    tokenize_for_transport,
    uniform_marginal,
)

TEACHER = "bundled:all-MiniLM-L6-v2"


def bible_pairs(n):
    ny_dir, kjv_path = data.bundled_bible_paths()
    kjv, _ = data.read_kjv(kjv_path)
    aligned, _ = data.align_bibles(data.read_chichewa(ny_dir), kjv)
    return [{"_id": v.key, "query": v.source, "text": v.english, "query_en": v.english} for v in aligned[1000:1000 + n]]


def one_step(model, optimiser, tokenizer, cache, batch, cfg, with_ot):
    """Seconds for one training step, and for the transport's share of it (forward and backward)."""
    start = time.perf_counter()
    enc = tokenize_for_transport(tokenizer, [r["query"] for r in batch], cfg.max_length, "cpu")
    hidden = model(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"]).last_hidden_state
    t_tokens, t_mask, t_pooled = cache.batch([r["_id"] for r in batch], "cpu")
    pooled = mean_pool(hidden, enc["attention_mask"])
    loss = (1 - torch.nn.functional.cosine_similarity(pooled, t_pooled, dim=-1)).mean()
    transport = 0.0
    if with_ot:
        # The transport's own cost: its forward, and its backward down to the token embeddings.
        ot_start = time.perf_counter()
        leaf = hidden.detach().requires_grad_()
        ot_loss = optical_loss(leaf, t_tokens, enc["transport_mask"], t_mask, cfg.eps, cfg.sinkhorn_iters)
        (grad,) = torch.autograd.grad(ot_loss, leaf)
        transport = time.perf_counter() - ot_start
        loss = loss + (hidden * grad).sum()  # same gradient as ot_loss, so the step is the real one
    optimiser.zero_grad()
    loss.backward()
    optimiser.step()
    return time.perf_counter() - start, transport


def step_times(model, tokenizer, cache, records, cfg, steps):
    """Interleaves steps with and without the transport (ABAB…), so drifting machine load hits both."""
    optimiser = torch.optim.AdamW(model.parameters(), lr=cfg.lr)
    plain, full, transport = [], [], []
    for i in range(steps + 1):  # the first pair warms up and is not counted
        batch = records[i * cfg.batch_size:(i + 1) * cfg.batch_size]
        t_plain, _ = one_step(model, optimiser, tokenizer, cache, batch, cfg, False)
        t_full, t_ot = one_step(model, optimiser, tokenizer, cache, batch, cfg, True)
        if i:
            plain.append(t_plain)
            full.append(t_full)
            transport.append(t_ot)
    return statistics.median(plain), statistics.median(full), statistics.median(transport)


def sinkhorn_alone(hidden, t_tokens, s_mask, t_mask, eps, iters, domain, repeats=10):
    cost = cosine_cost(hidden, t_tokens)
    a, b = uniform_marginal(s_mask), uniform_marginal(t_mask)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        sinkhorn(cost, a, b, eps, iters, domain=domain)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--steps", type=int, default=6)
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[16, 32])
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    records = bible_pairs((args.steps + 1) * max(args.batch_sizes))
    tokenizer, teacher = load_encoder(TEACHER, torch.device("cpu"))
    cache = build_teacher_cache(tokenizer, teacher, records, max_length=64, batch_size=64)
    print(f"torch {torch.__version__}, {args.threads} thread(s), all-MiniLM-L6-v2, max 64 tokens, eps 0.02, "
          f"median of {args.steps} steps")
    print(f"{'batch':>5} {'step, pooled only':>18} {'step, OPTICAL':>14} {'OT fwd+bwd':>11} {'OT share':>9} "
          f"{'Sinkhorn scaling':>17} {'Sinkhorn log':>13}")
    for batch_size in args.batch_sizes:
        cfg = TrainConfig.from_config({**defaults("train"), "batch_size": batch_size}, pooling="mean", seed=0)
        _, student = load_encoder(TEACHER, torch.device("cpu"))
        student.train()
        base, full, transport = step_times(student, tokenizer, cache, records, cfg, args.steps)
        batch = records[:batch_size]
        enc = tokenize_for_transport(tokenizer, [r["query"] for r in batch], 64, "cpu")
        with torch.no_grad():
            hidden = student(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"]).last_hidden_state
        t_tokens, t_mask, _ = cache.batch([r["_id"] for r in batch], "cpu")
        scaling = sinkhorn_alone(hidden, t_tokens, enc["transport_mask"], t_mask, 0.02, 50, "scaling")
        log = sinkhorn_alone(hidden, t_tokens, enc["transport_mask"], t_mask, 0.02, 50, "log")
        print(f"{batch_size:>5} {base:>16.3f} s {full:>12.3f} s {transport * 1000:>8.1f} ms {transport / full:>8.1%} "
              f"{scaling * 1000:>14.1f} ms {log * 1000:>10.1f} ms")


if __name__ == "__main__":
    main()
