"""The analysis's vocabulary: table columns, metric names and labels, and its output files.

Plain data, importing nothing of the analysis (only the Layout's table paths, :data:`swimscale.config.TABLES`),
so that every other module (and the report) can name a column without importing the code that computes
it. The columns of the correlation table are derived from the statistics table
(:data:`swimscale.analysis._statistics.STATISTICS`).
"""

from swimscale.config import TABLES

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
# What the workflow's stages recorded about a run, after the columns above (docs/analysis.md, "Data"):
# its training (train_log.json; docs/training.md) ...
TRAINING_COLUMNS = [
    "budget",
    "max_steps",
    "steps_at_best",
    "stopped_by",
    "cap_bound",
    "dev_recall_at_best",
    "examples_at_best",
    "n_records",  # the records the student was trained on: its size, or fewer under the pool's cap_sizes
    "passes_at_best",
]
# ... and its language's data (the validate stage's report): the overlap screen of the pool against the
# row's benchmark (and the records it left out over all benchmarks), the benchmark's corpus, and the
# warnings of the benchmark and of the language's dev benchmark (small corpus, bad judgements dropped).
DATA_COLUMNS = [
    "overlap_mode",
    "overlap_relevant",
    "overlap_other",
    "overlap_dropped",
    "corpus_documents",
    "data_warnings",
]
DETAIL_COLUMNS = [*TRAINING_COLUMNS, *DATA_COLUMNS]
# Optional columns by kind, as read_recall_table checks them (empty or nan: not recorded).
COUNT_COLUMNS = [
    "n_queries",
    "steps",
    "examples_seen",
    "max_steps",
    "steps_at_best",
    "examples_at_best",
    "overlap_relevant",
    "overlap_other",
    "overlap_dropped",
    "corpus_documents",
]
NUMBER_COLUMNS = ["train_seconds", "dev_recall_at_best", "passes_at_best"]
FLAG_COLUMNS = ["cap_bound"]
TEXT_COLUMNS = ["budget", "stopped_by", "overlap_mode", "data_warnings"]
# Separates the warnings in a data_warnings cell.
WARNING_SEPARATOR = " | "
# What any table must have for `correlate`; every other column adds what it enables (see docs/analysis.md).
REQUIRED_COLUMNS = [*KEY_COLUMNS, "recall_at_50"]
# The study's metric (the learning curve, the slopes across languages and the summary's answer) comes first.
MAIN_METRIC = "recall_at_50"
# Metrics of the recall table; the last is computed from the run files by the analysis itself.
TABLE_METRICS = ["recall_at_50", "recall_at_100", "ndcg_at_10", "mrr_at_10"]
RANK_METRIC = "log2_first_rank"
METRICS = [*TABLE_METRICS, RANK_METRIC]
METRIC_LABELS = {
    "recall_at_50": "Recall@50",
    "recall_at_100": "Recall@100",
    "ndcg_at_10": "nDCG@10",
    "mrr_at_10": "MRR@10",
    RANK_METRIC: "log2 rank of the first relevant document",
}
LOWER_IS_BETTER = {RANK_METRIC}
# A trend (correlation, slope) or a learning curve of one language needs this many distinct sizes N > 0.
MIN_TRAINED_SIZES = 5

BY_SIZE_COLUMNS = [
    *GROUP_COLUMNS,
    "metric",
    "size",
    "n_seeds",
    "resampled",
    "mean",
    "sd",
    "ci_low",
    "ci_high",
    "gain",
    "gain_ci_low",
    "gain_ci_high",
    "note",
    "flag",
]
# The by-size table's ``flag``: what makes a point read with care, the one source of the plot's marks and
# the summary's words about it. Comma-separated names, "" for none (see swimscale.analysis._by_size).
CAP_BOUND = "cap_bound"  # a run of this size reached its update cap before its patience ran out
FEWER_SEEDS = "fewer_seeds"  # fewer seeds with a value than the group's other sizes N > 0
DEGENERATE_CI = "degenerate_ci"  # a CI of zero width (every resample gave the same mean)
FLAGS = (CAP_BOUND, FEWER_SEEDS, DEGENERATE_CI)
FLAG_SEPARATOR = ","
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
    "aicc_flat",
    "aicc_log_linear",
    "aicc_saturating",
    "preferred_model",
    "delta_aicc",
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
    "n_sizes",
    "max_size",
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

# Output name -> path under the output directory (results/ in the workflow): the Layout's tables (the
# one spelling of these paths), less the two that other rules write. The correlate rule's outputs carry
# the same names.
OUTPUTS = {name: path for name, path in TABLES.items() if name not in ("missing", "moderator_values")}
# The across-language tables, which `python -m swimscale correlate` writes directly under OUT_DIR
# (OUT_DIR/across_languages.tsv, ...) and the workflow under results/tables/.
ACROSS_TABLES = ["across", "moderators", "contrasts"]
# Written only with a literature table (``correlate --literature``; always in the workflow).
LITERATURE_OUTPUTS = ["literature", "literature_md", "literature_tex", "literature_plot", "literature_plot_svg"]


def level_words(level: float, space: str = " ") -> str:
    """The confidence level as a percentage, e.g. "95 %" (``space=""``: "95%", for table headers)."""
    return f"{level * 100:g}{space}%"


def series(items) -> str:
    """"a", "a and b", "a, b and c"."""
    items = list(items)
    return ", ".join(items[:-1]) + " and " + items[-1] if len(items) > 1 else "".join(items)


def flags_of(cell) -> set[str]:
    """The flags of a ``flag`` cell (empty, or nan as read back from a TSV: none)."""
    return {f for f in cell.split(FLAG_SEPARATOR) if f} if isinstance(cell, str) else set()


def join_notes(*notes: str) -> str:
    """The non-empty notes, joined with "; " (the form of every ``note`` column)."""
    return "; ".join(n for n in notes if n)
