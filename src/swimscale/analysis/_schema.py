"""The analysis's vocabulary: table columns, metric names and labels, and its output files.

Plain data, importing nothing, so that every other module (and the report) can name a column without
importing the code that computes it. The columns of the correlation table are derived from the
statistics table (:data:`swimscale.analysis._statistics.STATISTICS`).
"""

# The key of a run, and the part of it that makes one analysed group (all sizes and seeds).
KEY_COLUMNS = ["language", "benchmark", "method", "size", "seed"]
GROUP_COLUMNS = ["language", "benchmark", "method"]
RECALL_COLUMNS = [
    *KEY_COLUMNS,
    "recall_at_50",
    "recall_at_100",
    "ndcg_at_10",
    "mrr_at_10",
    "n_queries",
    "steps",
    "examples_seen",
    "train_seconds",
    "run_file",
    "qrels_file",
]
# The study's metric (the learning curve, the pooled slopes and the summary's answer) comes first.
MAIN_METRIC = "recall_at_50"
METRICS = ["recall_at_50", "recall_at_100", "ndcg_at_10", "mrr_at_10"]
METRIC_LABELS = {
    "recall_at_50": "Recall@50",
    "recall_at_100": "Recall@100",
    "ndcg_at_10": "nDCG@10",
    "mrr_at_10": "MRR@10",
}

BY_SIZE_COLUMNS = [
    *GROUP_COLUMNS,
    "metric",
    "size",
    "n_seeds",
    "mean",
    "sd",
    "ci_low",
    "ci_high",
    "gain",
    "gain_ci_low",
    "gain_ci_high",
    "note",
]
CURVE_COLUMNS = [
    *GROUP_COLUMNS,
    "metric",
    "n_sizes",
    "n_points",
    "n_seeds",
    "r0",
    "r_inf",
    "r_inf_ci_low",
    "r_inf_ci_high",
    "n0",
    "alpha",
    "n90",
    "n90_ci_low",
    "n90_ci_high",
    "target_recall",
    "n_target",
    "n_target_ci_low",
    "n_target_ci_high",
    "rmse",
    "n_boot_fit",
    "n_boot_ok",
    "note",
]
SLOPE_COLUMNS = [
    "method",
    "metric",
    "scope",
    "tier",
    "language",
    "benchmark",
    "n_languages",
    "n_points",
    "slope",
    "se",
    "ci_low",
    "ci_high",
    "p_value",
    "stat",
    "df_num",
    "df_den",
    "ci_method",
    "note",
]

# Output name -> path under the output directory (results/ in the workflow); the correlate rule's
# outputs carry the same names.
OUTPUTS = {
    "recall": "tables/recall.tsv",
    "correlation": "tables/correlation.tsv",
    "correlation_md": "tables/correlation.md",
    "correlation_tex": "tables/correlation.tex",
    "by_size": "tables/recall_by_size.tsv",
    "by_size_md": "tables/recall_by_size.md",
    "by_size_tex": "tables/recall_by_size.tex",
    "curves": "tables/learning_curves.tsv",
    "curves_md": "tables/learning_curves.md",
    "curves_tex": "tables/learning_curves.tex",
    "slopes": "tables/slopes.tsv",
    "slopes_md": "tables/slopes.md",
    "slopes_tex": "tables/slopes.tex",
    "plot": "plots/recall_vs_n.png",
    "plot_svg": "plots/recall_vs_n.svg",
    "forest": "plots/slope_forest.png",
    "forest_svg": "plots/slope_forest.svg",
    "summary": "summary.md",
}


def level_words(level: float, space: str = " ") -> str:
    """The confidence level as a percentage, e.g. "95 %" (``space=""``: "95%", for table headers)."""
    return f"{level * 100:g}{space}%"


def join_notes(*notes: str) -> str:
    """The non-empty notes, joined with "; " (the form of every ``note`` column)."""
    return "; ".join(n for n in notes if n)
