"""The table per training-set size: the mean of each metric over seeds, with CIs, and the gain over N = 0.

CIs are percentile intervals of the query × seed bootstrap (:mod:`swimscale.analysis._bootstrap`; seeds
only for a table without run files, which gives N = 0 no CI). The gain's CI is paired: each replicate's
mean at N minus the same replicate's zero-shot mean (one query draw for both), so it is much narrower
than the two CIs side by side suggest.

``flag`` marks the rows to be read with care (:data:`swimscale.analysis._schema.FLAGS`): ``cap_bound``
where a run of that size N > 0 reached its update cap (the recall table's ``cap_bound``: its best
student may lie beyond the cap, so the mean underestimates N), ``fewer_seeds`` where a size N > 0 has
fewer seeds with a value than the group's best-covered size N > 0 (its mean and CI rest on less), and
``degenerate_ci`` where the CI has zero width (every resample gave the same mean: no spread to show,
not certainty). The plot's marks and the summary's words about these points are read from this column.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import pandas as pd

from swimscale.analysis._bootstrap import Replicates, ci
from swimscale.analysis._correlation import NO_QUERY_CI
from swimscale.analysis._groups import Group
from swimscale.analysis._schema import (
    BY_SIZE_COLUMNS,
    CAP_BOUND,
    DEGENERATE_CI,
    FEWER_SEEDS,
    FLAG_SEPARATOR,
    join_notes,
)


def _size_row(group: Group, reps: Replicates | None, metric: str, i: int, zero: float, level: float) -> dict[str, Any]:
    size = group.sizes[i]
    values = group.rows.loc[group.rows["size"] == size, metric].dropna()
    row = {
        "language": group.language,
        "benchmark": group.benchmark,
        "method": group.method,
        "metric": metric,
        "size": int(size),
        "n_seeds": len(values),
        "resampled": group.resampled,
        "mean": float(values.mean()) if len(values) else math.nan,
        "sd": float(values.std()) if len(values) > 1 else math.nan,
        "ci_low": math.nan,
        "ci_high": math.nan,
        "gain": float(values.mean()) - zero if size > 0 and len(values) else math.nan,
        "gain_ci_low": math.nan,
        "gain_ci_high": math.nan,
        "note": "",
    }
    if reps is None or not reps.has(metric):
        return row
    if size > 0 and group.trained_seeds < 2:
        row["note"] = "one seed: no seed-cluster bootstrap CI"
        return row
    if size == 0 and not group.queries:
        row["note"] = NO_QUERY_CI
        return row
    replicates = reps.size_mean[metric][:, i]
    row["ci_low"], row["ci_high"], why = ci(replicates, "mean", level)
    why_gain = ""
    if not math.isnan(row["gain"]):
        paired = replicates - reps.size_mean[metric][:, group.zero_index]
        row["gain_ci_low"], row["gain_ci_high"], why_gain = ci(paired, "gain", level)
    row["note"] = join_notes(why, why_gain)
    return row


def _cap_bound_sizes(group: Group) -> set[int]:
    """The sizes with a run whose ``cap_bound`` is true (not recorded, NaN or False: none)."""
    if "cap_bound" not in group.rows.columns:
        return set()
    return {int(n) for n in group.rows.loc[group.rows["cap_bound"].eq(True), "size"]}


def _flag(row: Any, bound: set[int], most: int) -> str:
    """A row's ``flag`` (see the module's docstring); ``most``: the most seeds of its group's sizes N > 0.
    A CI of NaN compares false: no CI is not a zero-width one."""
    flags = [
        CAP_BOUND if row.size in bound else "",
        FEWER_SEEDS if row.size > 0 and row.n_seeds < most else "",
        DEGENERATE_CI if row.ci_high <= row.ci_low else "",
    ]
    return FLAG_SEPARATOR.join(f for f in flags if f)


def by_size_table(
    groups: Sequence[Group], replicates: Sequence[Replicates | None], metrics: Sequence[str], level: float
) -> pd.DataFrame:
    """Mean of each metric per size over seeds, its sample SD and bootstrap CI, the paired gain over N = 0,
    and the row's ``flag``."""
    out, context = [], []  # context: each row's (cap-bound sizes, most seeds at N > 0) for its flag
    for group, reps in zip(groups, replicates):
        bound = _cap_bound_sizes(group)
        for metric in metrics:
            if metric not in group.rows.columns:
                continue
            zero_values = group.rows.loc[group.rows["size"] == 0, metric].dropna()
            zero = float(zero_values.mean()) if len(zero_values) else math.nan
            rows = [_size_row(group, reps, metric, i, zero, level) for i in range(len(group.sizes))]
            most = max((r["n_seeds"] for r in rows if r["size"] > 0), default=0)
            out += rows
            context += [(bound, most)] * len(rows)
    table = pd.DataFrame(out, columns=BY_SIZE_COLUMNS)
    table["flag"] = [_flag(row, *c) for row, c in zip(table.itertuples(), context)]
    return table
