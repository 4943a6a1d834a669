"""Paper-ready versions of the analysis tables: Markdown and LaTeX (booktabs), estimates with CIs.

The TSVs keep every number at full precision; these round for reading (see
:mod:`swimscale.analysis.report._format`). A missing value prints as "–" and its reason stays in the
Note column.
"""

from __future__ import annotations

import re
from typing import Any

import pandas as pd

from swimscale._types import StrPath
from swimscale.analysis._statistics import STATISTICS
from swimscale.analysis.report._format import (
    DASH,
    ci_header,
    finite,
    fmt_corr,
    fmt_gain,
    fmt_metric,
    fmt_n,
    fmt_p,
    fmt_slope,
    metric_label,
    text_or_empty,
    with_ci,
)

# --------------------------------------------------------------------------- presentations


def present_correlation(table: pd.DataFrame, level: float) -> pd.DataFrame:
    ci = ci_header(level)
    rows = []
    for r in table.itertuples():
        row = {
            "Language": r.language,
            "Benchmark": r.benchmark,
            "Method": r.method,
            "Metric": metric_label(r.metric),
            "Runs (sizes)": f"{r.n_points} ({r.n_sizes})",
            f"Zero-shot {ci}": with_ci(r.zero_shot, r.zero_shot_ci_low, r.zero_shot_ci_high, fmt_metric),
        }
        for s in STATISTICS:
            values = [getattr(r, c) for c in (s.column, *s.ci_columns)]
            row[f"{s.label} {ci}"] = with_ci(*values, fmt_corr if s.correlation else fmt_slope)
        row["Note"] = text_or_empty(r.note)
        rows.append(row)
    return pd.DataFrame(rows)


def present_by_size(table: pd.DataFrame, level: float) -> pd.DataFrame:
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
                f"Mean {ci_header(level)}": with_ci(r.mean, r.ci_low, r.ci_high, fmt_metric),
                f"Gain over N = 0 {ci_header(level, paired=True)}": with_ci(r.gain, r.gain_ci_low, r.gain_ci_high, fmt_gain),
                "SD over seeds": fmt_metric(r.sd),
                "Note": text_or_empty(r.note),
            }
        )
    return pd.DataFrame(rows)


def present_curves(table: pd.DataFrame, level: float) -> pd.DataFrame:
    ci = ci_header(level)
    rows = []
    for r in table.itertuples():
        rows.append(
            {
                "Language": r.language,
                "Benchmark": r.benchmark,
                "Method": r.method,
                "Metric": metric_label(r.metric),
                "R0 (N = 0)": fmt_metric(r.r0),
                f"R∞ {ci}": with_ci(r.r_inf, r.r_inf_ci_low, r.r_inf_ci_high, fmt_metric),
                f"N90 {ci}": with_ci(r.n90, r.n90_ci_low, r.n90_ci_high, fmt_n),
                f"N for {metric_label(r.metric)} = {r.target_recall:g} {ci}": with_ci(
                    r.n_target, r.n_target_ci_low, r.n_target_ci_high, fmt_n
                ),
                "Refits (ok)": f"{r.n_boot_fit} ({r.n_boot_ok})",
                "Note": text_or_empty(r.note),
            }
        )
    return pd.DataFrame(rows)


_SCOPES = {"tier_difference": "slope differs between tiers?", "all": "all languages"}


def present_slopes(table: pd.DataFrame, level: float) -> pd.DataFrame:
    rows = []
    for r in table.itertuples():
        if r.scope == "tier_difference":
            estimate = DASH
            test = f"F({r.df_num:.0f}, {r.df_den:.0f}) = {r.stat:.2f}, p = {fmt_p(r.p_value)}" if finite(r.stat) else DASH
        else:
            estimate = with_ci(r.slope, r.ci_low, r.ci_high, fmt_slope)
            test = f"p = {fmt_p(r.p_value)}" if finite(r.p_value) else DASH
        what = {"language": f"{r.language} ({r.benchmark})", "tier": f"tier {r.tier}"}.get(r.scope) or _SCOPES.get(r.scope, r.scope)
        rows.append(
            {
                "Method": r.method,
                "Scope": what,
                "Tier": text_or_empty(r.tier),
                "Languages": str(r.n_languages),
                "Runs": str(r.n_points),
                f"{metric_label(r.metric)} per doubling of N {ci_header(level)}": estimate,
                "Test": test,
                "CI": r.ci_method,
                "Note": text_or_empty(r.note),
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


def write_table(presented: pd.DataFrame, md_path: StrPath, tex_path: StrPath, caption: str, label: str) -> None:
    with open(md_path, "w", encoding="utf-8") as fh:
        fh.write(to_markdown(presented))
    with open(tex_path, "w", encoding="utf-8") as fh:
        fh.write(to_latex(presented, caption, label))
