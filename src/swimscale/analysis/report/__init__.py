"""Presenting the analysis: Markdown and LaTeX tables, plots, and ``summary.md`` in plain words.

Imports the analysis's vocabulary, the curve model and the literature series, never the pipeline:
``_format`` (numbers) → ``_present`` (tables as strings), ``_tables`` (Markdown, LaTeX), ``_labels``
(language names, panel titles, what a flagged point's mark means) → ``_plots`` (the learning curves) →
``_forest`` (the slope forest, the literature beside ours), ``_claims`` (every claim from an interval or a
model comparison), ``_notes`` (warnings, data checks and training budgets from the recall table's optional columns) → ``_beside`` (the literature) → ``_summary``.
"""

from swimscale.analysis.report._forest import literature_figure, plot_literature, plot_slope_forest, slope_forest_figure
from swimscale.analysis.report._labels import read_language_names
from swimscale.analysis.report._plots import plot_recall_vs_n, recall_vs_n_figure
from swimscale.analysis.report._summary import summary_markdown
from swimscale.analysis.report._tables import to_latex, to_markdown, write_table

__all__ = [
    "literature_figure",
    "plot_literature",
    "plot_recall_vs_n",
    "plot_slope_forest",
    "read_language_names",
    "recall_vs_n_figure",
    "slope_forest_figure",
    "summary_markdown",
    "to_latex",
    "to_markdown",
    "write_table",
]
