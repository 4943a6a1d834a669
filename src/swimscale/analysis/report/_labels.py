"""Words for the figures: what a panel shows (language, benchmark, metric) and what a flagged point means.

A language is named as ``config/languages.tsv`` names it, with its code ("Chichewa (ny)"); the names
come from the same file as the tiers (:func:`read_language_names`), and a code the file lacks is shown
as the code alone. Every benchmark swimscale reads searches English documents (the Bible's King James
verses, CLIRMatrix's English Wikipedia, XTREME-UP's English passages), so a language's queries go
"→ English". The flags are those of the by-size table's ``flag`` column
(:data:`swimscale.analysis._schema.FLAGS`); :data:`FLAG_LEGEND` is how the plots explain each mark.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

import pandas as pd

from swimscale._types import StrPath
from swimscale.analysis._schema import CAP_BOUND, DEGENERATE_CI, FEWER_SEEDS, FLAGS, METRIC_LABELS, flags_of

DOCUMENTS = "English"
TITLE_WIDTH = 52  # a longer panel title breaks after the language

# Each flag in a table cell and in the summary's words.
FLAG_WORDS = {CAP_BOUND: "cap-bound", FEWER_SEEDS: "fewer seeds", DEGENERATE_CI: "zero-width CI"}
# How each flag is drawn (on top of the point) and said in the legend.
FLAG_LEGEND = {
    CAP_BOUND: "hollow: cap-bound, a run reached its update cap\n(the mean may underestimate this N)",
    FEWER_SEEDS: "boxed: fewer seeds than the other sizes\n(the count beside it)",
    DEGENERATE_CI: "×: zero-width CI (every resample\ngave the same mean)",
}


def read_language_names(path: StrPath | None) -> dict[str, str]:
    """Language code → name from a TSV with the columns ``code`` and ``name`` (``config/languages.tsv``);
    {} without the file or without a ``name`` column (the figures then show codes only)."""
    if path is None or not Path(path).is_file():
        return {}
    table = pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False, comment="#")
    if not {"code", "name"} <= set(table.columns):
        return {}
    return {code.strip(): name.strip() for code, name in zip(table["code"], table["name"]) if name.strip()}


def language_words(code: str, names: Mapping[str, str] | None) -> str:
    """"Chichewa (ny)", or "ny" where no name is known."""
    name = (names or {}).get(str(code), "")
    return f"{name} ({code})" if name else str(code)


def panel_title(code: str, benchmarks: Iterable[str], metric: str, names: Mapping[str, str] | None) -> str:
    """"Chichewa (ny) → English · bible-ny-en · Recall@50" (two lines where that is too long)."""
    where = f"{language_words(code, names)} → {DOCUMENTS}"
    what = " · ".join([*([", ".join(benchmarks)] if benchmarks else []), METRIC_LABELS.get(metric, metric)])
    if not code:  # no runs at all: the metric alone
        return what
    return f"{where} · {what}" if len(where) + len(what) + 3 <= TITLE_WIDTH else f"{where}\n{what}"


def flag_words(cell) -> str:
    """A ``flag`` cell in words: "cap-bound, fewer seeds" ("" for none)."""
    flags = flags_of(cell)
    return ", ".join(FLAG_WORDS[f] for f in FLAGS if f in flags)


def flagged_sizes(sizes: pd.DataFrame, flag: str) -> list[int]:
    """The sizes N of a group's by-size rows (one metric) that carry ``flag``, ascending."""
    if "flag" not in sizes.columns:
        return []
    return sorted(int(n) for n, cell in zip(sizes["size"], sizes["flag"]) if flag in flags_of(cell))
