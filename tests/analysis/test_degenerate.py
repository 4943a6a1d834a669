"""A degenerate interval is said in words: one of zero width (every seed's statistic identical, e.g. ρ = 1
in every seed gives [1, 1]) or one from fewer than 3 seeds; none without intervals."""

import math

import pandas as pd

from swimscale.analysis.report._notes import DEGENERATE_HEAD, degenerate_lines

CI = {"pearson_ci_low": 0.5, "pearson_ci_high": 0.9, "kendall_ci_low": 0.2, "kendall_ci_high": 1.0,
      "slope_ci_low": 0.1, "slope_ci_high": 0.2}


def row(method, n_seeds, spearman, **other):
    return {"language": "ny", "benchmark": "b", "method": method, "metric": "recall_at_50", "n_seeds": n_seeds,
            "spearman_ci_low": spearman[0], "spearman_ci_high": spearman[1], **CI, **other}


def test_collapsed_and_few_seed_intervals_are_said_and_sound_ones_are_not():
    table = pd.DataFrame([
        row("same", 5, (1.0, 1.0)),
        row("two", 2, (-0.9, 1.0)),
        row("sound", 5, (0.1, 0.9)),
        row("none", 1, (math.nan, math.nan), **{k: math.nan for k in CI}),
    ])
    lines = degenerate_lines(table)
    assert lines[0] == DEGENERATE_HEAD and lines[-1] == ""
    bullets = [line for line in lines if line.startswith("- ")]
    assert bullets == [
        "- ny × b × same (recall_at_50): the interval of ρ collapses to one value (every seed gave the same value).",
        "- ny × b × two (recall_at_50): its intervals rest on 2 seed(s), fewer than 3 distinct values.",
    ]


def test_no_degenerate_interval_no_lines():
    assert degenerate_lines(pd.DataFrame([row("sound", 3, (0.1, 0.9))])) == []
    assert degenerate_lines(pd.DataFrame()) == []
