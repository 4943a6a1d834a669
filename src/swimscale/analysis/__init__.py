"""The statistics of a sweep: from the recall table and its run files to tables, plots and summary.md.

:func:`run` is the whole analysis (used by the ``correlate`` rule and ``python -m swimscale correlate``):
per language × benchmark × method, correlations of each metric with log N and the recall per size with
query × seed bootstrap CIs, learning curves, and pooled slopes by resource tier. See docs/analysis.md.
"""

from swimscale.analysis._pipeline import DEFAULTS, OUTPUTS, analyse, load_per_query, output_paths, read_recall_table, run
from swimscale.analysis._stats import (
    GROUP_COLUMNS,
    KEY_COLUMNS,
    LEVEL,
    METRIC_LABELS,
    METRICS,
    RECALL_COLUMNS,
    build_recall_table,
    write_tsv,
)
from swimscale.errors import InputError

__all__ = [
    "DEFAULTS",
    "GROUP_COLUMNS",
    "InputError",
    "KEY_COLUMNS",
    "LEVEL",
    "METRICS",
    "METRIC_LABELS",
    "OUTPUTS",
    "RECALL_COLUMNS",
    "analyse",
    "build_recall_table",
    "load_per_query",
    "output_paths",
    "read_recall_table",
    "run",
    "write_tsv",
]
