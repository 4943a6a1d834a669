"""How numbers are printed in the Markdown and LaTeX tables and in ``summary.md``.

Metrics to 3 decimals, correlations to 2, gains with a sign, slopes per doubling to 4, N as integers,
p-values to 2 significant digits; a missing value prints as "–" (its reason stays in the note).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from swimscale.analysis._schema import METRIC_LABELS, level_words

DASH = "–"


def finite(v: Any) -> bool:
    """True for a finite number (or a string holding one); False for NaN, ±inf, None and text."""
    try:
        return v is not None and math.isfinite(float(v))
    except (TypeError, ValueError):
        return False


def fmt_metric(v: Any) -> str:
    return f"{float(v):.3f}" if finite(v) else DASH


def fmt_corr(v: Any) -> str:
    return f"{float(v):.2f}" if finite(v) else DASH


def fmt_gain(v: Any) -> str:
    return f"{float(v):+.3f}" if finite(v) else DASH


def fmt_slope(v: Any) -> str:
    return f"{float(v):+.4f}" if finite(v) else DASH


def fmt_n(v: Any) -> str:
    if not finite(v):
        return DASH
    v = float(v)
    if v >= 1e6:
        return f"{v:.2g}"
    return f"{v:,.0f}" if v >= 10 else f"{v:.2g}"


def fmt_p(v: Any) -> str:
    if not finite(v):
        return DASH
    return "< 0.001" if float(v) < 0.001 else f"{float(v):.2g}"


def p_text(v: Any) -> str:
    """"p = 0.012", "p < 0.001", or "p = –"."""
    text = fmt_p(v)
    return f"p {text}" if text.startswith("<") else f"p = {text}"


def with_ci(v: Any, lo: Any, hi: Any, fmt: Callable[[Any], str]) -> str:
    """"0.072 [0.060, 0.085]"; the estimate alone if the CI is missing; "–" if the estimate is."""
    if not finite(v):
        return DASH
    if finite(lo) and finite(hi):
        return f"{fmt(v)} [{fmt(lo)}, {fmt(hi)}]"
    return fmt(v)


def metric_label(metric: str) -> str:
    return METRIC_LABELS.get(metric, metric)


def ci_header(level: float, paired: bool = False) -> str:
    """A column header's interval, e.g. "[95% CI]" or "[paired 95% CI]"."""
    return f"[{'paired ' if paired else ''}{level_words(level, '')} CI]"


def text_or_empty(v: Any) -> str:
    """A note cell: the text, or "" for a missing one."""
    return v if isinstance(v, str) else ""
