"""What ``summary.md`` says about how the numbers were made, from the recall table's optional columns
(:data:`swimscale.analysis.DETAIL_COLUMNS`; a table without them gets none of these lines):

* **warnings**, in the summary's first lines: the validate stage's warnings of a benchmark (a corpus
  of ≤ 50 documents, where Recall@50 is 1 by construction) and the queries or judgements dropped when
  it was prepared (``data_warnings``), and test-relevant passages left in training (``overlap: report``);
* **data**: per language × benchmark, the queries, the corpus and the overlap screen of the pool;
* **budget**: per language × benchmark × method, how the students were trained and, for every size
  where a ``converged`` run reached its cap ``max_steps`` before its patience ran out, which seeds and
  where their best student was: there the curve underestimates that N. Which sizes those are is read
  from the by-size table's ``flag`` (``cap_bound``), the column the plot's hollow markers are drawn
  from, so the two cannot disagree; the seeds at such a size are the runs whose ``cap_bound`` is true.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from swimscale.analysis._schema import CAP_BOUND, WARNING_SEPARATOR, series
from swimscale.analysis._statistics import STATISTICS
from swimscale.analysis.report._format import finite
from swimscale.analysis.report._labels import flagged_sizes

CAP_UNDERESTIMATES = "the curve underestimates"
DEGENERATE_HEAD = "**Degenerate intervals** (an interval of no width, or from too few seeds, is no evidence of certainty):"
MIN_INTERVAL_SEEDS = 3  # below this many seeds' values an interval over the seeds says little
WARNINGS_HEAD = "**Warnings** (read these before the numbers):"


def _count(v: Any) -> int | None:
    return int(float(v)) if finite(v) else None


def _sizes_words(sizes) -> str:
    return "N = " + series([f"{int(n):,}" for n in sizes])


def _first(rows: pd.DataFrame, column: str) -> Any:
    return rows[column].iloc[0] if column in rows.columns and len(rows) else None


def warning_lines(recall: pd.DataFrame) -> list[str]:
    """The summary's warnings (with a heading and a blank line after), or [] when there are none."""
    warnings: dict[str, None] = {}  # ordered, each once
    if "data_warnings" in recall.columns:
        for language, texts in recall.groupby("language", sort=True)["data_warnings"]:
            for text in texts:
                for warning in str(text).split(WARNING_SEPARATOR) if isinstance(text, str) and text else []:
                    warnings[f"{language}: {warning}"] = None
    if {"overlap_mode", "overlap_relevant"} <= set(recall.columns):
        kept = recall[(recall["overlap_mode"] == "report") & (pd.to_numeric(recall["overlap_relevant"]) > 0)]
        for (language, benchmark), rows in kept.groupby(["language", "benchmark"], sort=True):
            n = _count(_first(rows, "overlap_relevant"))
            warnings[
                f"{language}: {n:,} pool passage(s) that are relevant documents of {benchmark}'s queries stayed in "
                f"training (`overlap: report`): the scores on {benchmark} may be inflated"
            ] = None
    if not warnings:
        return []
    return [WARNINGS_HEAD, "", *(f"- {w}." if not w.endswith(".") else f"- {w}" for w in warnings), ""]


def _overlap_words(language: str, benchmark: str, rows: pd.DataFrame) -> str:
    mode = _first(rows, "overlap_mode")
    relevant, other = _count(_first(rows, "overlap_relevant")), _count(_first(rows, "overlap_other"))
    if not mode or relevant is None or other is None:
        return ""
    screen = f"the overlap screen of the {language} pool (`overlap: {mode}`)"
    if relevant == other == 0:
        text = f"{screen} found no pool passage among {benchmark}'s documents"
    else:
        fate = {"drop": "left out of training", "report": "kept in training, counted", "stop": "`stop` halts on any"}
        text = (
            f"{screen} found {relevant:,} pool passage(s) that are relevant documents of {benchmark}'s queries "
            f"({fate.get(mode, mode)}) and {other:,} that are other documents of its corpus (kept: they answer no query)"
        )
    dropped = _count(_first(rows, "overlap_dropped"))
    if dropped is not None:
        text += (f"; {dropped:,} pool record(s) in all were left out of training for matching a relevant document of "
                 "the language's test or dev benchmarks")
    return text


def data_lines(recall: pd.DataFrame) -> list[str]:
    """The "Data" section: per language × benchmark, its queries, corpus and overlap screen ([] without those columns)."""
    if not {"corpus_documents", "overlap_mode"} & set(recall.columns):
        return []
    lines = ["## Data", ""]
    for (language, benchmark), rows in recall.groupby(["language", "benchmark"], sort=True):
        parts = []
        queries, documents = _count(_first(rows, "n_queries")), _count(_first(rows, "corpus_documents"))
        if queries is not None and documents is not None:
            parts.append(f"{queries:,} test queries over {documents:,} documents")
        overlap = _overlap_words(language, benchmark, rows)
        parts += [overlap] if overlap else []
        if parts:
            lines.append(f"- {language} ({benchmark}): " + "; ".join(parts) + ".")
    return lines + [""] if len(lines) > 2 else []


def _cap_words(size: int, rows: pd.DataFrame) -> str:
    """"N = 316: seeds 0 (best at 450 of 500 updates) and 2 (...)": the size's cap-bound runs, if recorded."""
    def where(r) -> str:
        best, cap = (_count(getattr(r, c, None)) for c in ("steps_at_best", "max_steps"))
        return f" (best at {best:,} of {cap:,} updates)" if best is not None and cap is not None else ""

    if "cap_bound" not in rows.columns:
        return f"N = {size:,}"
    bound = rows[(rows["size"] == size) & rows["cap_bound"].eq(True)].sort_values("seed")
    seeds = [f"{int(r.seed)}{where(r)}" for r in bound.itertuples()]
    return f"N = {size:,}: seed{'s' if len(seeds) > 1 else ''} {series(seeds)}" if seeds else f"N = {size:,}"


def budget_bullet(rows: pd.DataFrame, sizes: pd.DataFrame) -> str:
    """How a group's students were trained (its recall ``rows``) and, for a converged budget, where the
    cap bound: the sizes its by-size rows ``sizes`` flag ``cap_bound`` ("" without `budget` or `cap_bound`)."""
    trained = rows[rows["size"] > 0]
    if not len(trained) or not {"budget", "cap_bound"} & set(rows.columns):
        return ""
    budgets = sorted(set(trained["budget"].astype(str)) - {""}) if "budget" in rows.columns else []
    caps = sorted({_count(v) for v in trained.get("max_steps", pd.Series(dtype=float)) if finite(v)})
    cap = f"cap {series([f'{c:,}' for c in caps])} updates" if caps else "cap not recorded"
    if budgets == ["fixed"]:
        return f"Training budget: fixed ({cap.removeprefix('cap ')} at every N, the last student kept: compute-matched)."
    if len(budgets) > 1 or budgets not in ([], ["converged"]):
        return f"Training budget: {series(budgets)}."
    if budgets:
        text = f"Training budget: converged (the best student on dev Recall@50 kept, the untrained one included; {cap})"
    else:
        text = f"Training budget: not recorded ({cap})"
    if "steps_at_best" in trained.columns and trained["steps_at_best"].notna().any():
        low, high = (_count(f(trained["steps_at_best"].dropna())) for f in (min, max))
        text += f"; best students at {low:,}{'' if low == high else f' to {high:,}'} updates (`steps_at_best`)"
    if "passes_at_best" in trained.columns and trained["passes_at_best"].notna().any():
        low_p, high_p = (float(f(trained["passes_at_best"].dropna())) for f in (min, max))
        text += f", {low_p:.3g}{'' if low_p == high_p else f' to {high_p:.3g}'} passes over their samples (`passes_at_best`)"
    if "stopped_by" in trained.columns and trained["stopped_by"].eq("min").any():
        floor = int(trained["stopped_by"].eq("min").sum())
        text += (f"; {floor} run{'s' if floor > 1 else ''} stopped at the floor (`stopped_by: min`: the patience ran "
                 "out before the minimum passes or updates)")
    capped = flagged_sizes(sizes, CAP_BOUND)
    if not capped:
        return text + (". No run reached its cap: every one stopped on its patience." if "cap_bound" in trained.columns else ".")
    listed = "; ".join(_cap_words(n, trained) for n in capped)
    return (
        f"{text}. The cap bound at {listed}: these runs reached the cap before their patience ran out, so their best "
        f"student may lie beyond it and {CAP_UNDERESTIMATES} {_sizes_words(capped)}."
    )


def _degenerate_words(row: Any) -> str:
    """Why the intervals of one correlation row are degenerate, or ""."""
    collapsed = [s.symbol for s in STATISTICS
                 if finite(getattr(row, s.ci_columns[0], None)) and getattr(row, s.ci_columns[0]) == getattr(row, s.ci_columns[1])]
    seeds = getattr(row, "n_seeds", None)
    intervals = any(finite(getattr(row, s.ci_columns[0], None)) for s in STATISTICS)
    said = []
    if collapsed:
        said.append(f"the interval of {series(collapsed)} collapses to one value (every seed gave the same value)")
    if intervals and finite(seeds) and 0 < int(seeds) < MIN_INTERVAL_SEEDS:
        said.append(f"its intervals rest on {int(seeds)} seed(s), fewer than {MIN_INTERVAL_SEEDS} distinct values")
    if not said:
        return ""
    return f"{row.language} × {row.benchmark} × {row.method} ({row.metric}): " + "; ".join(said)


def degenerate_lines(correlation: pd.DataFrame) -> list[str]:
    """The summary's (and the CLI's) words on degenerate intervals of the correlation table: an interval of
    zero width (every seed's statistic identical, e.g. ρ = 1 in every seed gives [1, 1]) or one from fewer
    than :data:`MIN_INTERVAL_SEEDS` seeds. A heading, one bullet per row, a blank line; [] when none."""
    words = [w for row in correlation.itertuples() if (w := _degenerate_words(row))] if len(correlation) else []
    if not words:
        return []
    return [DEGENERATE_HEAD, "", *(f"- {w}." for w in words), ""]
