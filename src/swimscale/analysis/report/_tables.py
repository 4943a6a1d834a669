"""Paper-ready versions of the analysis tables: Markdown and LaTeX (booktabs), estimates with CIs.

The TSVs keep every number at full precision; these round for reading: metrics to 3 decimals,
correlations to 2, slopes per doubling to 4, N to integers. A missing value prints as "–" and its reason
stays in the Note column.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from os import PathLike
from typing import Any

import pandas as pd

from swimscale.analysis._stats import METRIC_LABELS

DASH = "–"


def _finite(v: Any) -> bool:
    try:
        return v is not None and math.isfinite(float(v))
    except (TypeError, ValueError):
        return False


def fmt_metric(v: Any) -> str:
    return f"{float(v):.3f}" if _finite(v) else DASH


def fmt_corr(v: Any) -> str:
    return f"{float(v):.2f}" if _finite(v) else DASH


def fmt_gain(v: Any) -> str:
    return f"{float(v):+.3f}" if _finite(v) else DASH


def fmt_slope(v: Any) -> str:
    return f"{float(v):+.4f}" if _finite(v) else DASH


def fmt_n(v: Any) -> str:
    if not _finite(v):
        return DASH
    v = float(v)
    if v >= 1e6:
        return f"{v:.2g}"
    return f"{v:,.0f}" if v >= 10 else f"{v:.2g}"


def fmt_p(v: Any) -> str:
    if not _finite(v):
        return DASH
    return "< 0.001" if float(v) < 0.001 else f"{float(v):.2g}"


def with_ci(v: Any, lo: Any, hi: Any, fmt: Callable[[Any], str]) -> str:
    """"0.072 [0.060, 0.085]"; the estimate alone if the CI is missing; "–" if the estimate is."""
    if not _finite(v):
        return DASH
    if _finite(lo) and _finite(hi):
        return f"{fmt(v)} [{fmt(lo)}, {fmt(hi)}]"
    return fmt(v)


def metric_label(metric: str) -> str:
    return METRIC_LABELS.get(metric, metric)


# --------------------------------------------------------------------------- presentations


def present_correlation(table: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for r in table.itertuples():
        rows.append(
            {
                "Language": r.language,
                "Benchmark": r.benchmark,
                "Method": r.method,
                "Metric": metric_label(r.metric),
                "Runs (sizes)": f"{r.n_points} ({r.n_sizes})",
                "Zero-shot [95% CI]": with_ci(r.zero_shot, r.zero_shot_ci_low, r.zero_shot_ci_high, fmt_metric),
                "Spearman ρ [95% CI]": with_ci(r.spearman_rho, r.spearman_ci_low, r.spearman_ci_high, fmt_corr),
                "Pearson r [95% CI]": with_ci(r.pearson_r, r.pearson_ci_low, r.pearson_ci_high, fmt_corr),
                "Kendall τ [95% CI]": with_ci(r.kendall_tau, r.kendall_ci_low, r.kendall_ci_high, fmt_corr),
                "Slope per doubling [95% CI]": with_ci(
                    r.slope_per_doubling, r.slope_ci_low, r.slope_ci_high, fmt_slope
                ),
                "Note": r.note if isinstance(r.note, str) else "",
            }
        )
    return pd.DataFrame(rows)


def present_by_size(table: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for r in table.itertuples():
        rows.append(
            {
                "Language": r.language,
                "Benchmark": r.benchmark,
                "Method": r.method,
                "Metric": metric_label(r.metric),
                "N": f"{int(r.size):,}",
                "Runs": str(r.n_seeds),
                "Mean [95% CI]": with_ci(r.mean, r.ci_low, r.ci_high, fmt_metric),
                "Gain over N = 0 [paired 95% CI]": with_ci(r.gain, r.gain_ci_low, r.gain_ci_high, fmt_gain),
                "SD over seeds": fmt_metric(r.sd),
                "Note": r.note if isinstance(r.note, str) else "",
            }
        )
    return pd.DataFrame(rows)


def present_curves(table: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for r in table.itertuples():
        rows.append(
            {
                "Language": r.language,
                "Benchmark": r.benchmark,
                "Method": r.method,
                "Metric": metric_label(r.metric),
                "R0 (N = 0)": fmt_metric(r.r0),
                "R∞ [95% CI]": with_ci(r.r_inf, r.r_inf_ci_low, r.r_inf_ci_high, fmt_metric),
                "N90 [95% CI]": with_ci(r.n90, r.n90_ci_low, r.n90_ci_high, fmt_n),
                f"N for {metric_label(r.metric)} = {r.target_recall:g} [95% CI]": with_ci(
                    r.n_target, r.n_target_ci_low, r.n_target_ci_high, fmt_n
                ),
                "Refits (ok)": f"{r.n_boot_fit} ({r.n_boot_ok})",
                "Note": r.note if isinstance(r.note, str) else "",
            }
        )
    return pd.DataFrame(rows)


def present_slopes(table: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for r in table.itertuples():
        if r.scope == "tier_difference":
            estimate = DASH
            test = (
                f"F({r.df_num:.0f}, {r.df_den:.0f}) = {r.stat:.2f}, p = {fmt_p(r.p_value)}" if _finite(r.stat) else DASH
            )
        else:
            estimate = with_ci(r.slope, r.ci_low, r.ci_high, fmt_slope)
            test = f"p = {fmt_p(r.p_value)}" if _finite(r.p_value) else DASH
        what = {
            "language": f"{r.language} ({r.benchmark})",
            "tier": f"tier {r.tier}",
            "all": "all languages",
            "tier_difference": "slope differs between tiers?",
        }.get(r.scope, r.scope)
        rows.append(
            {
                "Method": r.method,
                "Scope": what,
                "Tier": r.tier if isinstance(r.tier, str) else "",
                "Languages": str(r.n_languages),
                "Runs": str(r.n_points),
                f"{metric_label(r.metric)} per doubling of N [95% CI]": estimate,
                "Test": test,
                "CI": r.ci_method,
                "Note": r.note if isinstance(r.note, str) else "",
            }
        )
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- writers


def to_markdown(table: pd.DataFrame) -> str:
    """A GitHub-flavoured Markdown table of strings (pipes in cells escaped)."""
    if table.empty:
        return "_(no rows)_\n"

    def cell(v: Any) -> str:
        return str(v).replace("|", "\\|").replace("\n", " ")

    lines = [
        "| " + " | ".join(cell(c) for c in table.columns) + " |",
        "| " + " | ".join("---" for _ in table.columns) + " |",
    ]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in table.itertuples(index=False)]
    return "\n".join(lines) + "\n"


_LATEX_SPECIAL = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    "ρ": r"$\rho$",
    "τ": r"$\tau$",
    "α": r"$\alpha$",
    "∞": r"$\infty$",
    "−": r"$-$",
    "–": "--",
    "×": r"$\times$",
    "≥": r"$\geq$",
    "≤": r"$\leq$",
    "≈": r"$\approx$",
    "<": r"$<$",
    ">": r"$>$",
}


def latex_escape(text: Any) -> str:
    # A minus sign before a number (not a hyphen inside a word) becomes a math minus.
    text = re.sub(r"(^|[\s\[(,])-(?=\d)", "\\1\u2212", str(text))
    return "".join(_LATEX_SPECIAL.get(ch, ch) for ch in text)


def to_latex(table: pd.DataFrame, caption: str = "", label: str = "") -> str:
    """A booktabs table; the Note column (if any) wraps in a 6 cm paragraph column."""
    columns = list(table.columns)
    spec = "".join("p{6cm}" if c == "Note" else "l" for c in columns) or "l"
    lines = [
        "% Generated by swimscale; needs \\usepackage{booktabs}.",
        "\\begin{table}[htbp]",
        "\\centering",
        "\\scriptsize",
        f"\\begin{{tabular}}{{{spec}}}",
        "\\toprule",
        " & ".join(latex_escape(c) for c in columns) + " \\\\",
        "\\midrule",
    ]
    lines += [" & ".join(latex_escape(v) for v in row) + " \\\\" for row in table.itertuples(index=False)]
    lines += ["\\bottomrule", "\\end{tabular}"]
    if caption:
        lines.append(f"\\caption{{{latex_escape(caption)}}}")
    if label:
        lines.append(f"\\label{{{label}}}")
    lines.append("\\end{table}")
    return "\n".join(lines) + "\n"


def write_table(
    presented: pd.DataFrame, md_path: str | PathLike[str], tex_path: str | PathLike[str], caption: str, label: str
) -> None:
    with open(md_path, "w", encoding="utf-8") as fh:
        fh.write(to_markdown(presented))
    with open(tex_path, "w", encoding="utf-8") as fh:
        fh.write(to_latex(presented, caption, label))
