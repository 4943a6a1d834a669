"""The figures read through matplotlib's objects, not pixels: panel titles (language name and code,
benchmark, metric), legend entries in words, and the marks of the points the by-size table flags
(hollow = facecolor 'none'), which must be the points summary.md names. Tables are synthetic
(tests/analysis/synthetic.py): one language like the demo's, and two languages with one cap-bound size."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from tests.analysis.synthetic import study

from swimscale.analysis import analyse
from swimscale.analysis._schema import CAP_BOUND, DEGENERATE_CI, FEWER_SEEDS, flags_of
from swimscale.analysis.report import (
    literature_figure,
    read_language_names,
    recall_vs_n_figure,
    slope_forest_figure,
    summary_markdown,
)
from swimscale.analysis.report._forest import NOT_ESTIMABLE
from swimscale.analysis.report._labels import FLAG_LEGEND, panel_title
from swimscale.analysis.report._notes import CAP_UNDERESTIMATES

ROOT = Path(__file__).resolve().parents[2]
LANGUAGES = ROOT / "config" / "languages.tsv"
LEVEL = 0.95
SETTINGS = {"level": LEVEL, "n_boot": 100, "n_boot_fit": 10, "tiers_source": "test", "run_files": True,
            "literature_source": "test", "steps": (1, 64)}
DEMO_SIZES = (0, 10, 32, 100, 316, 1000)


def _legend(fig) -> dict[str, object]:
    """Every legend of the figure: text -> handle."""
    out = {}
    for ax in fig.axes:
        legend = ax.get_legend()
        if legend is not None:
            out.update({t.get_text(): h for t, h in zip(legend.get_texts(), legend.legend_handles)})
    return out


def _marks(ax, flag: str) -> list:
    return [line for line in ax.get_lines() if line.get_gid() == f"flag:{flag}"]


def _marked_sizes(ax, flag: str) -> list[int]:
    return sorted(int(x) for line in _marks(ax, flag) for x in line.get_xdata())


def _summary_cap_sizes(text: str) -> list[int]:
    """The sizes of the summary's "the curve underestimates N = ..." sentences, over every section."""
    found = []
    for listed in re.findall(rf"{CAP_UNDERESTIMATES} N = ([\d, and]+)\.", text):
        found += [int(n.replace(",", "")) for n in re.split(r", | and ", listed)]
    return sorted(found)


def _demo_like():
    """The demo's shape: Chichewa on bible-ny-en, sizes 0..1,000 × 3 seeds, the cap bound at N = 316
    for seeds 0 and 2 and at N = 1,000 for all three."""
    table, per_query, _ = study(languages=("ny",), sizes=DEMO_SIZES, n_queries=60, seed=3)
    table["benchmark"] = "bible-ny-en"
    table["cap_bound"] = (table["size"] == 1000) | ((table["size"] == 316) & (table["seed"] != 1))
    results = analyse(table, per_query, {"ny": "very-low"}, {"n_boot": 100, "n_boot_fit": 10})
    return table, results


@pytest.fixture(scope="module")
def demo_like():
    return _demo_like()


def test_language_names_come_from_the_languages_table(tmp_path) -> None:
    names = read_language_names(LANGUAGES)
    assert names["ny"] == "Chichewa" and names["sw"] == "Swahili"
    assert panel_title("ny", ["bible-ny-en"], "recall_at_50", names) == "Chichewa (ny) → English · bible-ny-en · Recall@50"
    # A tiers file without names (or none at all): the code alone, never an error.
    bare = tmp_path / "tiers.tsv"
    bare.write_text("code\ttier\nny\tvery-low\n")
    assert read_language_names(bare) == {} and read_language_names(tmp_path / "missing.tsv") == {}
    assert panel_title("ny", ["b"], "ndcg_at_10", {}).startswith("ny → English · b · nDCG@10")


def test_flag_column_marks_cap_bound_fewer_seeds_and_zero_width_cis() -> None:
    table, _, _ = study(languages=("ny",), sizes=(0, 16, 64, 256, 1024), n_queries=20, seed=1)
    table["cap_bound"] = table["size"] == 1024
    table = table[(table["size"] > 0) | (table["seed"] == 0)]  # one untrained student, once: N = 0 is not flagged
    table = table[~((table["size"] == 256) & (table["seed"] == 2))].copy()  # one seed fewer at N = 256
    table.loc[table["size"] == 256, "recall_at_50"] = [0.30, 0.35]  # (20 queries: two seeds could tie)
    table.loc[table["size"] == 16, "recall_at_50"] = 0.3  # every seed the same: the seed bootstrap cannot vary
    by_size = analyse(table[["language", "benchmark", "method", "size", "seed", "recall_at_50", "cap_bound"]], None, {},
                      {"n_boot": 100, "n_boot_fit": 5})["by_size"].set_index("size")
    assert {n: flags_of(f) for n, f in by_size["flag"].items()} == {
        0: set(), 16: {DEGENERATE_CI}, 64: set(), 256: {FEWER_SEEDS}, 1024: {CAP_BOUND}}
    assert by_size.loc[16, "ci_low"] == by_size.loc[16, "ci_high"] == pytest.approx(0.3)


def test_demo_like_plot_names_its_panel_and_draws_the_cap_bound_sizes_hollow(demo_like) -> None:
    table, results = demo_like
    fig = recall_vs_n_figure(table, LEVEL, by_size=results["by_size"], curves=results["curves"],
                             names=read_language_names(LANGUAGES))
    (ax,) = [a for a in fig.axes if a.get_visible()]
    assert ax.get_title() == "Chichewa (ny) → English · bible-ny-en · Recall@50"
    legend = _legend(fig)
    assert "untrained student, N = 0; shaded: its 95 % CI" in legend
    assert {"optical: mean over seeds", "optical: one run per seed", FLAG_LEGEND[CAP_BOUND]} <= set(legend)
    assert FLAG_LEGEND[FEWER_SEEDS] not in legend and FLAG_LEGEND[DEGENERATE_CI] not in legend
    assert legend[FLAG_LEGEND[CAP_BOUND]].get_markerfacecolor() == "none"
    (hollow,) = _marks(ax, CAP_BOUND)
    assert hollow.get_markerfacecolor() == "none" and list(hollow.get_xdata()) == [316, 1000]
    # The mean line draws filled markers at the other sizes only.
    (mean,) = [line for line in ax.get_lines() if line.get_label() == "optical: mean over seeds"]
    assert [int(mean.get_xdata()[i]) for i in mean.get_markevery()] == [10, 32, 100]
    # summary.md names exactly the sizes the plot draws hollow (both read the by-size table's flag).
    text = summary_markdown(results, SETTINGS, table)
    assert _summary_cap_sizes(text) == _marked_sizes(ax, CAP_BOUND) == [316, 1000]
    assert "The cap bound at N = 316: seeds 0 and 2; N = 1,000: seeds 0, 1 and 2" in text


def test_two_languages_one_cap_bound_size_and_one_size_with_fewer_seeds() -> None:
    table, per_query, _ = study(languages=("ny", "sw"), sizes=(0, 32, 128, 512), n_queries=40, seed=4)
    table["cap_bound"] = (table["language"] == "sw") & (table["size"] == 128)
    short = table[(table["language"] == "ny") & (table["size"] == 512) & (table["seed"] == 1)].index
    table, per_query = table.drop(index=short), {k: v for k, v in per_query.items() if k not in short}
    results = analyse(table, per_query, {}, {"n_boot": 100, "n_boot_fit": 5})
    fig = recall_vs_n_figure(table, LEVEL, by_size=results["by_size"], names=read_language_names(LANGUAGES))
    panels = {ax.get_title(): ax for ax in fig.axes if ax.get_visible()}
    ny = panels["Chichewa (ny) → English · bench-ny · Recall@50"]
    sw = panels["Swahili (sw) → English · bench-sw · Recall@50"]
    assert _marked_sizes(sw, CAP_BOUND) == [128] and _marked_sizes(ny, CAP_BOUND) == []
    assert all(line.get_markerfacecolor() == "none" for line in _marks(sw, CAP_BOUND))
    assert _marked_sizes(ny, FEWER_SEEDS) == [512] and _marked_sizes(sw, FEWER_SEEDS) == []
    assert "2 seeds" in [t.get_text() for t in ny.texts]
    legend = _legend(fig)
    assert {FLAG_LEGEND[CAP_BOUND], FLAG_LEGEND[FEWER_SEEDS]} <= set(legend) and FLAG_LEGEND[DEGENERATE_CI] not in legend
    text = summary_markdown(results, SETTINGS, table)
    assert _summary_cap_sizes(text) == [128]
    ny_section = text.split("### ny (bench-ny, optical)")[1].split("\n### ")[0]
    assert "N = 512 (2) rests on fewer seeds than the other sizes (3)" in ny_section
    assert "fewer seeds" not in text.split("### sw (bench-sw, optical)")[1].split("\n## ")[0]


def test_zero_width_ci_is_marked_and_said() -> None:
    table, _, _ = study(languages=("ny",), sizes=(0, 16, 64, 256), n_queries=20, seed=2)
    table = table[["language", "benchmark", "method", "size", "seed", "recall_at_50"]].copy()
    table.loc[table["size"] == 64, "recall_at_50"] = 0.25
    results = analyse(table, None, {}, {"n_boot": 100, "n_boot_fit": 5})
    fig = recall_vs_n_figure(table, LEVEL, by_size=results["by_size"])
    ax = fig.axes[0]
    assert ax.get_title().startswith("ny → English")  # no names given: the code alone
    assert _marked_sizes(ax, DEGENERATE_CI) == [64] and FLAG_LEGEND[DEGENERATE_CI] in _legend(fig)
    text = summary_markdown(results, {**SETTINGS, "run_files": False}, table)
    assert "the CI at N = 64 has zero width" in text


def test_slope_forest_drops_what_it_cannot_estimate_with_a_note(demo_like) -> None:
    _, results = demo_like
    fig = slope_forest_figure(results["slopes"], LEVEL, read_language_names(LANGUAGES))
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["optical · Chichewa (ny) · bible-ny-en"]
    assert "Recall@50" in ax.get_title(loc="left") and "Recall@50" in ax.get_xlabel()
    (note,) = [t for t in fig.texts if t.get_gid() == "not-estimable"]
    words = note.get_text().replace("\n", " ")
    assert words.startswith(NOT_ESTIMABLE) and "tier very-low" in words and "all languages" in words
    slopes = results["slopes"]
    for reason in slopes.loc[slopes["scope"].isin(["tier", "all"]), "note"]:
        assert reason in words


def test_slope_forest_without_anything_to_drop_has_no_note() -> None:
    table, _, _ = study(languages=("ny", "sw", "yo"), sizes=(0, 16, 32, 64, 128, 256), n_queries=20, seed=5)
    table = table[["language", "benchmark", "method", "size", "seed", "recall_at_50"]]
    slopes = analyse(table, None, dict.fromkeys(("ny", "sw", "yo"), "low"), {"n_boot": 50, "n_boot_fit": 5})["slopes"]
    fig = slope_forest_figure(slopes, LEVEL, read_language_names(LANGUAGES))
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert len(labels) == 5 and "optical · Yoruba (yo) · bench-yo" in labels
    assert np.isfinite(slopes.loc[slopes["scope"] != "tier_difference", "slope"]).all() and not fig.texts


def test_literature_plot_names_this_runs_language_and_marks_its_cap_bound_gains(demo_like) -> None:
    _, results = demo_like
    empty = pd.DataFrame(columns=["source", "url", "setting", "language", "n", "metric", "value", "model", "note",
                                  "gain_over_n0"])
    fig = literature_figure(empty, results["by_size"], LEVEL, read_language_names(LANGUAGES))
    legend = _legend(fig)
    assert "this run: Chichewa (ny) → English, bible-ny-en (optical), Recall@50" in legend
    assert FLAG_LEGEND[CAP_BOUND] in legend and _marked_sizes(fig.axes[0], CAP_BOUND) == [316, 1000]
