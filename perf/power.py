"""How precisely the full study can measure a per-language slope: the 95 % CI half-width of Recall@50
per doubling of N, for the study's sizes and seeds, from the seed-to-seed spread measured on the demo.

The per-language slope is what swimscale's analysis reports (docs/analysis.md): within each seed, the
least-squares slope of Recall@50 on log2 N over the sizes N > 0; averaged over the S seeds, with a
t(S − 1) interval. Its half-width is t(0.975, S − 1) · sd_b / √S, where sd_b is the seed-to-seed SD of
the per-seed slope. sd_b depends on the design (the sizes): a slope fitted over a wider log range has a
smaller SD. So the script measures the seed noise on the demo, not its slope SD alone:

- sd_e: the pooled within-size SD of Recall@50 across seeds (each size's sample SD, pooled over sizes,
  df = sizes × (S − 1)); under independent noise per (size, seed), sd_b = sd_e / √Sxx, with
  Sxx = Σ (log2 N − mean)² of the design's sizes;
- sd_b(demo): the SD of the demo's own per-seed slopes, a check of that model on the demo's design
  (the samples are nested, so the noise of one seed's sizes is correlated; the model may be off).

The planning figure uses the larger of the two model-based values (sd_e scaled, or sd_b(demo) rescaled
by √(Sxx_demo / Sxx_design)). The minimal detectable slope (two-sided 5 %, 80 % power) is
(t(0.975, S − 1) + t(0.80, S − 1)) · SE.

The analysis's interval adds a second term that more seeds do not shrink: every seed is scored on the
same test queries, so the query sample's variance is shared (swimscale.analysis._inference:
SE² = max(spread, floor)/S + v_shared). v_shared is backed out of the demo's reported interval
(+0.0437 [+0.0381, +0.0493], 2,000 queries) and scaled to a design as 1/Sxx and 1/(number of test
queries) — an approximation; the table gives the half-width with seeds alone and with both terms.

    python perf/power.py                       # the demo's measured table (README, 2026-11-29 make run)
    python perf/power.py --recall results/tables/recall.tsv --method optical --language ny

Caveat: the demo is MiniLM on Bible verses, the full study mDPR on SWIM-IR and CLIRMatrix/XTREME-UP:
the spread there is not measured; rerun this with the first full-study languages' recall.tsv.
"""

from __future__ import annotations

import argparse
import csv
import math
import statistics

from scipy import stats

# The demo's Recall@50 per N > 0 and seed (0 / 1 / 2), from results/tables/recall_by_size.md of the
# `make run` of 2026-11-29 quoted in README.md ("Result of the embedded default").
DEMO = {10: (0.040, 0.040, 0.040), 32: (0.067, 0.072, 0.049), 100: (0.135, 0.116, 0.116),
        316: (0.219, 0.198, 0.207), 1000: (0.319, 0.342, 0.329)}

# The demo's reported per-doubling slope and 95 % interval (correlation.tsv, README) and its test queries.
DEMO_REPORTED = (0.0437, 0.0381, 0.0493)
DEMO_QUERIES = 2000
STUDY_QUERIES = 1000  # CLIRMatrix test1 has 1,000 queries per language; XTREME-UP's counts are not known here

# The full study's designs (config/full_study.yaml): trained sizes and seeds.
DESIGNS = {
    "very-low, Indic (5 seeds)": ([100, 300, 1000, 3000, 5800], 5),
    "very-low, Indic, if 3 seeds": ([100, 300, 1000, 3000, 5800], 3),
    "low and high, large pools (3 seeds)": ([100, 300, 1000, 3000, 10000, 30000, 100000, 256000], 3),
    "very-low with a large pool, te (5 seeds)": ([100, 300, 1000, 3000, 10000, 30000, 100000, 256000], 5),
    "low, Indic (mr pa ta ur; 3 seeds)": ([100, 300, 1000, 3000, 5800], 3),
}


def slope(sizes, values) -> float:
    x = [math.log2(n) for n in sizes]
    mx, my = statistics.fmean(x), statistics.fmean(values)
    return sum((a - mx) * (b - my) for a, b in zip(x, values)) / sum((a - mx) ** 2 for a in x)


def sxx(sizes) -> float:
    x = [math.log2(n) for n in sizes]
    m = statistics.fmean(x)
    return sum((a - m) ** 2 for a in x)


def spread(table: dict[int, tuple[float, ...]]) -> dict:
    """sd_e (pooled within-size SD across seeds), the per-seed slopes, their mean and SD."""
    sizes = sorted(table)
    seeds = len(next(iter(table.values())))
    pooled = math.sqrt(statistics.fmean([statistics.variance(table[n]) for n in sizes]))
    slopes = [slope(sizes, [table[n][s] for n in sizes]) for s in range(seeds)]
    return {"sizes": sizes, "seeds": seeds, "sd_e": pooled, "df_e": len(sizes) * (seeds - 1), "slopes": slopes,
            "mean_slope": statistics.fmean(slopes), "sd_b": statistics.stdev(slopes), "sxx": sxx(sizes)}


def read_recall(path: str, method: str, language: str, benchmark: str | None) -> dict[int, tuple[float, ...]]:
    """{N > 0: Recall@50 per seed} of one language and method from a recall.tsv."""
    table: dict[int, dict[int, float]] = {}
    with open(path, encoding="utf-8") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            if row["method"] != method or row["language"] != language or int(row["size"]) == 0:
                continue
            if benchmark and row["benchmark"] != benchmark:
                continue
            table.setdefault(int(row["size"]), {})[int(row["seed"])] = float(row["recall_at_50"])
    return {n: tuple(v for _, v in sorted(by_seed.items())) for n, by_seed in table.items()}


def shared_query_variance(measured: dict) -> float:
    """v_shared of the demo: its reported interval's SE² less the seeds' part (≥ 0)."""
    estimate, low, high = DEMO_REPORTED
    se = (high - low) / 2 / stats.t.ppf(0.975, measured["seeds"] - 1)
    return max(0.0, se ** 2 - measured["sd_b"] ** 2 / measured["seeds"])


def design_row(name: str, sizes: list[int], seeds: int, measured: dict) -> dict:
    scaled_e = measured["sd_e"] / math.sqrt(sxx(sizes))
    scaled_b = measured["sd_b"] * math.sqrt(measured["sxx"] / sxx(sizes))
    sd_b = max(scaled_e, scaled_b)
    v_shared = shared_query_variance(measured) * measured["sxx"] / sxx(sizes) * DEMO_QUERIES / STUDY_QUERIES
    t95, t80 = stats.t.ppf(0.975, seeds - 1), stats.t.ppf(0.80, seeds - 1)
    se_seeds = sd_b / math.sqrt(seeds)
    se_all = math.sqrt(se_seeds ** 2 + v_shared)
    return {"design": name, "sizes": len(sizes), "decades": math.log10(max(sizes) / min(sizes)), "seeds": seeds,
            "sd_b": sd_b, "t": t95, "half_width": t95 * se_seeds, "half_width_all": t95 * se_all,
            "mde_all": (t95 + t80) * se_all}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--recall", help="a recall.tsv (default: the demo's table above)")
    parser.add_argument("--method", default="optical")
    parser.add_argument("--language", default="ny")
    parser.add_argument("--benchmark")
    args = parser.parse_args(argv)
    table = read_recall(args.recall, args.method, args.language, args.benchmark) if args.recall else DEMO
    m = spread(table)
    print(f"measured: sizes {m['sizes']}, {m['seeds']} seeds; per-seed slopes "
          f"{', '.join(f'{b:+.4f}' for b in m['slopes'])} (mean {m['mean_slope']:+.4f}, SD {m['sd_b']:.4f}); "
          f"pooled within-size SD of Recall@50 sd_e = {m['sd_e']:.4f} (df {m['df_e']}); Sxx = {m['sxx']:.2f}")
    v_shared = shared_query_variance(m)
    print(f"seeds alone: t(0.975, {m['seeds'] - 1}) · SD / √S = "
          f"±{stats.t.ppf(0.975, m['seeds'] - 1) * m['sd_b'] / math.sqrt(m['seeds']):.4f} on the demo's design; its reported "
          f"interval {DEMO_REPORTED[1]:+.4f}..{DEMO_REPORTED[2]:+.4f} adds the shared query variance: "
          f"SE_q = {math.sqrt(v_shared):.4f} ({DEMO_QUERIES} queries)")
    print(f"\nfull-study designs ({STUDY_QUERIES} test queries assumed):")
    print("| design | trained sizes | decades | seeds | sd of a seed's slope | t(0.975, S−1) | 95 % half-width, seeds "
          "alone | 95 % half-width, seeds + queries | detectable slope, 80 % power |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name, (sizes, seeds) in DESIGNS.items():
        r = design_row(name, sizes, seeds, m)
        print(f"| {r['design']} | {r['sizes']} | {r['decades']:.2f} | {r['seeds']} | {r['sd_b']:.4f} | {r['t']:.2f} | "
              f"±{r['half_width']:.4f} | ±{r['half_width_all']:.4f} | {r['mde_all']:.4f} |")

if __name__ == "__main__":
    main()
