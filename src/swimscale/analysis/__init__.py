"""The statistics of a sweep: from the recall table and its run files to tables, plots and summary.md.

:func:`run` is the whole analysis (used by the ``correlate`` rule and ``python -m swimscale correlate``):
per language × benchmark × method, the statistics of each metric against log N (the statistics table,
:data:`STATISTICS`) and the recall per size with query × seed bootstrap CIs, learning curves, and slopes
across languages by resource tier; across languages, per tier and method, a random-slope model with its
meta-analysis cross-check and the repeated-measures correlation, meta-regressions on the language
moderators, and method contrasts with Holm's correction. Its settings are the config's ``analysis`` section (:class:`Settings`, defaults
from the schema). See docs/analysis.md.

Modules, in the order they import each other (one way, no cycles): ``_schema`` (columns, names) →
``_rowstats`` (row-wise kernels) → ``_statistics`` (the statistics table) → ``_groups`` → ``_bootstrap``
→ ``_correlation``, ``_by_size``, ``_curves``, ``_tier_slopes`` → ``_meta``, ``_rmcorr`` →
``_across_languages`` → ``_moderators``, ``_contrasts`` → ``report`` (format, tables, plots, headline,
summary) → ``_pipeline``; ``_table`` (the recall table and run files), ``_runs`` (the workflow's
records of each run: metrics, training log, validate report) and ``_settings`` beside them.
"""

from swimscale.analysis._across_languages import ACROSS_COLUMNS
from swimscale.analysis._contrasts import CONTRAST_COLUMNS
from swimscale.analysis._literature import LITERATURE_COLUMNS, read_literature
from swimscale.analysis._moderators import MODERATOR_COLUMNS, MODERATOR_TABLE_COLUMNS
from swimscale.analysis._pipeline import analyse, output_paths, run
from swimscale.analysis._ranks import first_relevant_log2_rank
from swimscale.analysis._runs import sweep_records
from swimscale.analysis._schema import (
    DATA_COLUMNS,
    DETAIL_COLUMNS,
    GROUP_COLUMNS,
    KEY_COLUMNS,
    MAIN_METRIC,
    METRIC_LABELS,
    METRICS,
    OUTPUTS,
    RECALL_COLUMNS,
    REQUIRED_COLUMNS,
    TRAINING_COLUMNS,
)
from swimscale.analysis._settings import Settings
from swimscale.analysis._statistics import CORRELATION_COLUMNS, STATISTICS, Statistic
from swimscale.analysis._table import build_recall_table, load_per_query, read_recall_table, write_tsv
from swimscale.errors import InputError

__all__ = [
    "ACROSS_COLUMNS",
    "CONTRAST_COLUMNS",
    "CORRELATION_COLUMNS",
    "DATA_COLUMNS",
    "DETAIL_COLUMNS",
    "GROUP_COLUMNS",
    "InputError",
    "KEY_COLUMNS",
    "LITERATURE_COLUMNS",
    "MAIN_METRIC",
    "METRICS",
    "METRIC_LABELS",
    "MODERATOR_COLUMNS",
    "MODERATOR_TABLE_COLUMNS",
    "OUTPUTS",
    "RECALL_COLUMNS",
    "REQUIRED_COLUMNS",
    "STATISTICS",
    "TRAINING_COLUMNS",
    "Settings",
    "Statistic",
    "analyse",
    "build_recall_table",
    "first_relevant_log2_rank",
    "load_per_query",
    "output_paths",
    "read_literature",
    "read_recall_table",
    "run",
    "sweep_records",
    "write_tsv",
]
