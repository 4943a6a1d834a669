"""Sinkhorn speed and accuracy: POT's per-pair loop and batched solver against swimscale.model.sinkhorn.

B = 64 problems of 32×32 and 32×256 (query tokens × English tokens) at ε = 0.1, costs C = 1 − cos
of correlated random token embeddings (C in about [0.2, 1.05], the range measured between real MiniLM tokens).
Prints milliseconds per batch (median of --repeats runs) and |Δ loss| against POT's per-pair loop in
float64 run to convergence (the reference).

    python perf/speed_ot.py [--threads 1] [--repeats 5]
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings

import numpy as np
import ot as pot
import torch

from swimscale.model import cosine_cost, sinkhorn, uniform_marginal


def make_problem(batch, n, m, seed=0):
    gen = torch.Generator().manual_seed(seed)
    common = torch.randn(1, 1, 64, generator=gen)  # shared direction: real token embeddings are anisotropic
    x = torch.randn(batch, n, 64, generator=gen) + 0.85 * common
    y = torch.randn(batch, m, 64, generator=gen) + 0.85 * common
    cost = cosine_cost(x, y)
    a = uniform_marginal(torch.ones(batch, n))
    b = uniform_marginal(torch.ones(batch, m))
    return cost, a, b


def timed(fn, repeats):
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000, out


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--eps", type=float, default=0.1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    warnings.filterwarnings("ignore")  # POT warns when its float32 solvers hit the iteration cap
    print(f"torch {torch.__version__}, POT {pot.__version__}, {args.threads} thread(s), eps = {args.eps}, B = 64")
    print(f"{'shape':>7}  {'implementation':<44} {'ms/batch':>9} {'|Δ loss|':>9} {'speed-up':>8}")
    for n, m in ((32, 32), (32, 256)):
        cost, a, b = make_problem(64, n, m)
        c64, a64, b64 = cost.double().numpy(), a.double().numpy(), b.double().numpy()

        def pot_loop():
            return np.mean([(pot.sinkhorn(a64[i], b64[i], c64[i], args.eps) * c64[i]).sum() for i in range(64)])

        def pot_loop_f32():
            c32, a32, b32 = cost.numpy(), a.numpy(), b.numpy()
            return np.mean([(pot.sinkhorn(a32[i], b32[i], c32[i], args.eps) * c32[i]).sum() for i in range(64)])

        def pot_batch(method):
            def run():
                res = pot.batch.solve_batch(cost, reg=args.eps, a=a, b=b, method=method, tol=1e-6, max_iter=1000,
                                            grad="detach")
                return float((res.plan * cost).sum((1, 2)).mean())
            return run

        def ours(domain):
            def run():
                return float((sinkhorn(cost, a, b, args.eps, 1000, tol=1e-6, domain=domain) * cost).sum((1, 2)).mean())
            return run

        reference_ms, reference = timed(pot_loop, max(1, args.repeats // 2))
        rows = [("POT ot.sinkhorn, per-pair loop, numpy float64", reference_ms, reference)]
        rows.append(("POT ot.sinkhorn, per-pair loop, numpy float32", *timed(pot_loop_f32, args.repeats)))
        rows.append(("POT solve_batch sinkhorn (scaling), torch f32", *timed(pot_batch("sinkhorn"), args.repeats)))
        rows.append(("POT solve_batch log_sinkhorn, torch f32", *timed(pot_batch("log_sinkhorn"), args.repeats)))
        rows.append(("swimscale sinkhorn auto (scaling), torch f32", *timed(ours("auto"), args.repeats)))
        rows.append(("swimscale sinkhorn log domain, torch f32", *timed(ours("log"), args.repeats)))
        for name, ms, loss in rows:
            print(f"{n:>3}×{m:<3}  {name:<44} {ms:>9.2f} {abs(loss - reference):>9.1e} {reference_ms / ms:>7.1f}×")


if __name__ == "__main__":
    main()
