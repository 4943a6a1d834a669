"""summary.md: every claim derived from an interval or a model comparison, every number a table's.

The claim tests build tables where a claim must appear and tables where it must not. The parse-back
test reads every "estimate [low, high]" of a generated summary and finds it in the tables, in the
column its label names.
"""

from __future__ import annotations

import math
import re
from types import SimpleNamespace

import pandas as pd
import pytest
from tests.analysis.synthetic import saturating, study

from swimscale.analysis import analyse
from swimscale.analysis._literature import read_literature
from swimscale.analysis.report._claims import (
    EVERY_SIZE_BEATS,
    FALLS,
    LEVELS_OFF,
    NO_TREND,
    RISES,
    gain_claim,
    plateau_claim,
    trend_claim,
)
from swimscale.analysis.report._format import fmt_corr, fmt_gain, fmt_metric, fmt_slope
from swimscale.analysis.report._summary import summary_markdown
from tests.analysis.test_cli import LITERATURE

LEVEL = "95 %"
SETTINGS = {"level": 0.95, "n_boot": 300, "n_boot_fit": 40, "tiers_source": "test", "run_files": True,
            "literature_source": "test", "steps": (1, 64)}


def _sizes(gains: list[tuple[float, float, float]]) -> pd.DataFrame:
    rows = [{"size": 0, "gain": math.nan, "gain_ci_low": math.nan, "gain_ci_high": math.nan}]
    rows += [{"size": 16 * 4**i, "gain": g, "gain_ci_low": lo, "gain_ci_high": hi} for i, (g, lo, hi) in enumerate(gains)]
    return pd.DataFrame(rows)


@pytest.mark.parametrize(
    "gains, must, must_not",
    [
        ([(0.03, 0.01, 0.05), (0.04, 0.02, 0.06)], [EVERY_SIZE_BEATS, "all above 0"], ["no difference"]),
        # The case: every point gain positive, but the last CI includes 0.
        ([(0.032, 0.008, 0.058), (0.016, -0.010, 0.042)], ["beats zero-shot Recall@50 at N = 16", "no difference at N = 64"], [EVERY_SIZE_BEATS]),
        ([(0.01, -0.02, 0.04), (0.02, -0.01, 0.05)], ["No trained size is shown to beat zero-shot"], [EVERY_SIZE_BEATS, "beats zero-shot Recall@50 at"]),
        ([(-0.03, -0.05, -0.01), (0.02, 0.01, 0.03)], ["is worse than zero-shot at N = 16", "beats zero-shot Recall@50 at N = 64"], [EVERY_SIZE_BEATS]),
        ([(0.05, math.nan, math.nan)], ["have no CI, so no gain is claimed"], [EVERY_SIZE_BEATS, "beats"]),
    ],
    ids=["all-above", "last-includes-0", "none-above", "one-below", "no-ci"],
)
def test_gain_claims_follow_the_paired_cis(gains, must, must_not) -> None:
    text = gain_claim(_sizes(gains), "Recall@50", LEVEL)
    for phrase in must:
        assert phrase in text, text
    for phrase in must_not:
        assert phrase not in text, text


def _trend_row(slope, lo, hi, n_sizes=5, df=2.0):
    return SimpleNamespace(slope_per_doubling=slope, slope_ci_low=lo, slope_ci_high=hi, n_sizes=n_sizes, t_df=df)


@pytest.mark.parametrize(
    "row, must, must_not",
    [
        (_trend_row(0.01, 0.002, 0.018), [RISES, "95 % CI above 0"], [FALLS, NO_TREND]),
        (_trend_row(-0.01, -0.018, -0.002), [FALLS], [RISES, NO_TREND]),
        (_trend_row(-0.004, -0.0095, 0.0013), [NO_TREND, "CI includes 0"], [RISES, FALLS]),
        (_trend_row(0.01, math.nan, math.nan), ["without an interval no trend is claimed"], [RISES, FALLS]),
        (_trend_row(math.nan, math.nan, math.nan, n_sizes=3), ["only 3 trained size(s), and a trend needs ≥ 5"], [RISES, FALLS, NO_TREND]),
    ],
    ids=["rises", "falls", "includes-0", "no-interval", "three-sizes"],
)
def test_trend_claims_follow_the_slope_interval(row, must, must_not) -> None:
    text = trend_claim(row, "Recall@50", LEVEL)
    for phrase in must:
        assert phrase in text, text
    for phrase in must_not:
        assert phrase not in text, text


def _curve(preferred, r_inf=math.nan, note=""):
    return SimpleNamespace(preferred_model=preferred, r_inf=r_inf, r_inf_ci_low=0.3, r_inf_ci_high=0.4, note=note,
                           aicc_flat=-82.0, aicc_log_linear=-80.0, aicc_saturating=-78.0)


@pytest.mark.parametrize(
    "curve, must, must_not",
    [
        (_curve("saturating", 0.35), [LEVELS_OFF, "plateau R∞ = 0.350 [0.300, 0.400]"], ["No plateau"]),
        # The case: a step-like saturating fit that a flat line beats on AICc (−82.0 vs −78.0).
        (_curve("flat"), ["No plateau: a flat line through the trained runs fits as well or better", "flat -82.0", "saturating -78.0"], [LEVELS_OFF, "R∞"]),
        (_curve("log-linear"), ["No plateau within the sweep: a line in log N fits best"], [LEVELS_OFF]),
        (_curve("undecided"), ["No plateau is claimed: no model fits clearly best"], [LEVELS_OFF]),
        (_curve("saturating", note="R∞ = 0.3 unreliable"), ["but no plateau is reported: R∞ = 0.3 unreliable"], [LEVELS_OFF]),
        (_curve("", note="only 3 trained size(s)"), ["No learning curve: only 3 trained size(s)."], [LEVELS_OFF, "plateau R∞"]),
    ],
    ids=["saturating", "flat", "log-linear", "undecided", "unreliable", "no-fit"],
)
def test_plateau_claims_follow_the_model_comparison(curve, must, must_not) -> None:
    text = plateau_claim(curve, "Recall@50")
    for phrase in must:
        assert phrase in text, text
    for phrase in must_not:
        assert phrase not in text, text


# --------------------------------------------------------------------------- parse-back

NUMBER = r"[-+]?\d[\d,]*(?:\.\d+)?"
WITH_CI = rf"(?P<v>{NUMBER}) \[(?P<lo>{NUMBER}), (?P<hi>{NUMBER})\]"
SLOPE_LEAD = r"(?:change per doubling of N = |changes by |rises with N: |falls as N grows: )"
SECONDARY = {"recall_at_100": "Recall@100", "ndcg_at_10": "nDCG@10", "mrr_at_10": "MRR@10",
             "log2_first_rank": "log2 rank of the first relevant document (lower is better)"}


def _own(table: pd.DataFrame, key: tuple[str, str, str]) -> pd.DataFrame:
    return table[(table["language"] == key[0]) & (table["benchmark"] == key[1]) & (table["method"] == key[2])]


def _expect(found: re.Match, values: tuple, fmt, where: str) -> None:
    assert (found["v"], found["lo"], found["hi"]) == tuple(fmt(v) for v in values), f"{where}: {found.group(0)}"


def check_summary(text: str, results: dict) -> int:
    """Every "v [lo, hi]" of the per-language sections, matched to the table column its label names;
    returns how many were checked (and fails on any that is not the table's)."""
    checked = 0
    sections = re.split(r"^### ", text, flags=re.M)[1:]
    for section in sections:
        head = re.match(r"(\S+) \((\S+), (\S+)\)", section)
        key = head.groups()
        section = section.split("\n## ")[0]
        corr = _own(results["correlation"], key).set_index("metric")
        sizes = _own(results["by_size"], key)
        sizes = sizes[sizes["metric"] == "recall_at_50"].set_index("size")
        main = corr.loc["recall_at_50"]
        for label, prefix, column in (("Spearman ρ", "spearman", "spearman_rho"), ("Pearson r", "pearson", "pearson_r"),
                                      ("Kendall τ", "kendall", "kendall_tau")):
            for found in re.finditer(rf"{label} = {WITH_CI}", section):
                _expect(found, (main[column], main[f"{prefix}_ci_low"], main[f"{prefix}_ci_high"]), fmt_corr, label)
                checked += 1
        for found in re.finditer(rf"{SLOPE_LEAD}{WITH_CI}", section):
            _expect(found, (main.slope_per_doubling, main.slope_ci_low, main.slope_ci_high), fmt_slope, "slope")
            checked += 1
        for found in re.finditer(rf"{WITH_CI} at N = (?P<n>[\d,]+)", section):
            row = sizes.loc[int(found["n"].replace(",", ""))]
            if found["v"].startswith(("+", "-")):
                _expect(found, (row.gain, row.gain_ci_low, row.gain_ci_high), fmt_gain, "gain")
            else:
                _expect(found, (row["mean"], row.ci_low, row.ci_high), fmt_metric, "level")
            checked += 1
        for found in re.finditer(rf"plateau R∞ = {WITH_CI}", section):
            curve = _own(results["curves"], key).iloc[0]
            _expect(found, (curve.r_inf, curve.r_inf_ci_low, curve.r_inf_ci_high), fmt_metric, "R∞")
            checked += 1
        for metric, label in SECONDARY.items():
            for found in re.finditer(rf"{re.escape(label)} {WITH_CI}", section):
                row = corr.loc[metric]
                _expect(found, (row.spearman_rho, row.spearman_ci_low, row.spearman_ci_high), fmt_corr, label)
                checked += 1
        every = len(re.findall(WITH_CI, section))
        assert checked_in(section) == every, f"a number with a CI the check does not know: {section}"
    return checked


def checked_in(section: str) -> int:
    secondary = "|".join(re.escape(label) for label in SECONDARY.values())
    patterns = [rf"(?:Spearman ρ|Pearson r|Kendall τ) = {WITH_CI}", rf"{SLOPE_LEAD}{WITH_CI}",
                rf"{WITH_CI} at N = [\d,]+", rf"plateau R∞ = {WITH_CI}", rf"(?:{secondary}) {WITH_CI}"]
    return sum(len(re.findall(p, section)) for p in patterns)


def check_tier_slopes_and_literature(text: str, results: dict) -> int:
    """The slopes across languages and this run's gains in the literature section, matched to the tables."""
    checked = 0
    across = text.split("## Slopes across languages, per tier")[1].split("\n## ")[0]
    slopes = results["slopes"]
    for found in re.finditer(rf"- (?P<what>tier \S+|all languages) \(.*?\): {WITH_CI}", across):
        scope = ("all", "") if found["what"] == "all languages" else ("tier", found["what"][5:])
        row = slopes[(slopes["scope"] == scope[0]) & (slopes["tier"] == scope[1])].iloc[0]
        _expect(found, (row.slope, row.ci_low, row.ci_high), fmt_slope, found["what"])
        checked += 1
    beside = text.split("**What this run measured**")[1].split("**Why")[0]
    by_size = results["by_size"]
    for found in re.finditer(rf"- (?P<lang>\S+) \((?P<bench>\S+), (?P<method>\S+)\): (?P<zero>{NUMBER}) at N = 0 and a gain of {WITH_CI} points at N = (?P<n>[\d,]+)", beside):
        own = _own(by_size, (found["lang"], found["bench"], found["method"]))
        own = own[own["metric"] == "recall_at_50"].set_index("size")
        row = own.loc[int(found["n"].replace(",", ""))]
        assert found["zero"] == f"{own.loc[0, 'mean'] * 100:.1f}"
        _expect(found, (row.gain * 100, row.gain_ci_low * 100, row.gain_ci_high * 100), lambda v: f"{v:+.1f}", "gain × 100")
        checked += 1
    assert checked == len(re.findall(WITH_CI, across)) + len(re.findall(WITH_CI, beside))
    return checked


@pytest.fixture(scope="module")
def analysed() -> tuple[str, dict]:
    table, per_query, _ = study(languages=("aa", "bb", "cc"), sizes=(0, 16, 64, 256, 1024, 4096), seeds=(0, 1, 2, 3),
                                n_queries=300, seed=9, seed_sd=0.005, curve=lambda n: saturating(n, n0=50, alpha=1.0))
    results = analyse(table, per_query, {"aa": "low", "bb": "low", "cc": "low"}, {"n_boot": 300, "n_boot_fit": 40},
                      literature=read_literature(LITERATURE))
    return summary_markdown(results, SETTINGS), results


def test_every_number_of_the_summary_is_the_tables(analysed) -> None:
    text, results = analysed
    assert check_summary(text, results) >= 2 * (3 + 1 + 6 + 5)
    assert check_tier_slopes_and_literature(text, results) == 2 + 3  # tier low, all; 3 languages' gains


def test_the_parse_back_catches_pearsons_ci_next_to_spearmans_rho(analysed) -> None:
    text, results = analysed
    corr = results["correlation"].copy()
    corr[["spearman_ci_low", "spearman_ci_high"]] = corr[["pearson_ci_low", "pearson_ci_high"]].to_numpy()
    wrong = summary_markdown({**results, "correlation": corr}, SETTINGS)
    assert wrong != text
    with pytest.raises(AssertionError, match="Spearman ρ"):
        check_summary(wrong, results)


def test_summary_states_the_methods_and_the_literature(analysed) -> None:
    text, _ = analysed
    assert "no interval or p-value treats the size × seed runs as independent" in text
    assert "A trend or a learning curve needs ≥ 5 distinct sizes N > 0" in text
    for heading in ("**What the literature reports**", "**What this run measured**", "**Why the two are not directly comparable:**"):
        assert heading in text
    assert "- Compute: " in text and "1 to 64 training steps across N" in text


# --------------------------------------------------------------------------- how the numbers were made

from swimscale.analysis import build_recall_table, sweep_records  # noqa: E402
from swimscale.analysis.report._notes import CAP_UNDERESTIMATES, WARNINGS_HEAD  # noqa: E402
from tests.analysis.synthetic import validate_report, write_sweep  # noqa: E402

NOTE_SIZES = (0, 16, 64, 256, 1024, 4096)


def _noted(tmp_path, cap_bound, report, budget="converged", methods=("optical",)) -> tuple[str, pd.DataFrame]:
    """summary.md of a sweep whose stages wrote these training logs and this validate report."""
    table, _, _ = study(sizes=NOTE_SIZES, seeds=(0, 1, 2), n_queries=30, methods=methods)
    points = write_sweep(tmp_path, table, cap_bound, {"ny": report}, budget)
    recall = build_recall_table(sweep_records(points, {"ny": str(tmp_path / "validate/ny/report.json")}, budget))
    results = analyse(recall.drop(columns=["run_file", "qrels_file"]), None, {}, {"n_boot": 100, "n_boot_fit": 10})
    return summary_markdown(results, {**SETTINGS, "run_files": False}, recall), recall


def _clean(mode="drop", relevant=0):
    return validate_report({"bench-ny": ("test", 5000, relevant, 3, {}, {}), "bench-ny-dev": ("dev", 300, 0, 0, {}, {})}, mode)


CAP = re.compile(r"N = (?P<n>[\d,]+): seeds? (?P<seeds>.*?)(?=; N = |: these runs)")
SEED = re.compile(r"(?P<seed>\d+) \(best at (?P<best>\d+) of (?P<cap>\d+) updates\)")


def cap_bound_runs(text: str) -> set[tuple[int, int, int, int]]:
    """(size, seed, steps_at_best, max_steps) of every run the summary's cap sentences name."""
    found = set()
    for sentence in re.findall(r"The cap bound at (.*?): these runs reached the cap", text):
        for size in CAP.finditer(sentence + ": these runs"):
            for s in SEED.finditer(size["seeds"]):
                found.add((int(size["n"].replace(",", "")), int(s["seed"]), int(s["best"]), int(s["cap"])))
    return found


def test_cap_sentences_name_exactly_the_cap_bound_runs(tmp_path) -> None:
    text, recall = _noted(tmp_path, lambda n, s: n >= 1024 and s != 1 or (n == 256 and s == 2), _clean())
    bound = recall[recall["cap_bound"]]
    assert cap_bound_runs(text) == {(r.size, r.seed, r.steps_at_best, r.max_steps) for r in bound.itertuples()}
    assert len(bound) == 5
    assert f"{CAP_UNDERESTIMATES} N = 256, 1,024 and 4,096." in text
    assert "best students at 50 to 600 updates (`steps_at_best`)" in text


def test_no_cap_sentence_without_a_cap_bound_run(tmp_path) -> None:
    text, _ = _noted(tmp_path, lambda n, s: False, _clean())
    assert CAP_UNDERESTIMATES not in text and "No run reached its cap: every one stopped on its patience." in text


def test_fixed_budget_says_so_and_claims_no_cap(tmp_path) -> None:
    text, _ = _noted(tmp_path, lambda n, s: True, _clean(), budget="fixed")
    assert "Training budget: fixed (600 updates at every N, the last student kept: compute-matched)." in text
    assert CAP_UNDERESTIMATES not in text and "converged" not in text


def test_warnings_come_first_with_the_reports_words(tmp_path) -> None:
    prepared = {"queries_read": 44, "queries_lost": 2, "queries": 42}
    report = validate_report({"bench-ny": ("test", 40, 0, 0, {"unknown_document": 2}, prepared),
                              "bench-ny-dev": ("dev", 30, 0, 0, {}, {})})
    text, recall = _noted(tmp_path, lambda n, s: False, report)
    lines = text.splitlines()
    assert lines[2] == WARNINGS_HEAD and lines[1] == ""  # right under the title
    expected = [f"- ny: {w}." for w in recall["data_warnings"].iloc[0].split(" | ")]
    assert lines[4:4 + len(expected)] == expected and len(expected) == 3
    assert "ny: bench-ny: small_corpus: 40 documents, at most 50" in lines[4]
    assert "unknown_document 2; 2 of its 44 queries were lost, so its scores are over 42 queries" in lines[5]
    assert "ny: bench-ny-dev (dev): small_corpus: 30 documents" in lines[6]
    assert lines[7] == "" and lines[8].startswith("**Across languages: no answer yet.**")  # the opening, then
    assert lines[9] == "" and lines[10].startswith("Generated by")


def test_no_warnings_for_clean_data_and_none_for_a_bare_table(tmp_path) -> None:
    text, _ = _noted(tmp_path, lambda n, s: False, _clean())
    assert WARNINGS_HEAD not in text
    table, _, _ = study(sizes=NOTE_SIZES)
    bare = summary_markdown(analyse(table, None, {}, {"n_boot": 50, "n_boot_fit": 5}), SETTINGS, table)
    assert WARNINGS_HEAD not in bare and "## Data" not in bare and "Training budget" not in bare


@pytest.mark.parametrize("mode, relevant, fate, warned", [("drop", 5, "left out of training", False),
                                                           ("report", 4, "kept in training, counted", True)])
def test_overlap_counts_are_stated_in_words(tmp_path, mode, relevant, fate, warned) -> None:
    text, recall = _noted(tmp_path, lambda n, s: False, _clean(mode, relevant))
    row = recall.iloc[0]
    data = text.split("## Data")[1].split("## Per language")[0]
    found = re.search(r"(\d+) test queries over ([\d,]+) documents; the overlap screen of the ny pool \(`overlap: (\w+)`\) "
                      r"found (\d+) pool passage\(s\) that are relevant documents of bench-ny's queries \((.*?)\) and (\d+) that "
                      r"are other documents .*?; (\d+) pool record\(s\) in all were left out", data)
    assert found, data
    assert found.groups() == (str(row.n_queries), f"{row.corpus_documents:,}", mode, str(row.overlap_relevant), fate,
                              str(row.overlap_other), str(row.overlap_dropped))
    warning = f"ny: {relevant} pool passage(s) that are relevant documents of bench-ny's queries stayed in training"
    assert (warning in text.split("Generated by")[0]) == warned


def test_two_methods_read_as_two_sections_and_two_tier_slope_paragraphs(tmp_path) -> None:
    text, _ = _noted(tmp_path, lambda n, s: n == 4096, _clean(), methods=("optical", "pooled"))
    assert "2 methods, one section each: optical and pooled. N = 0 is the same untrained student for every method" in text
    for method in ("optical", "pooled"):
        section = text.split(f"### ny (bench-ny, {method})")[1].split("\n### ")[0].split("\n## ")[0]
        assert "**Answer:**" in section and f"{CAP_UNDERESTIMATES} N = 4,096." in section
        assert f"**{method}**, Recall@50 per doubling of N" in text


def test_every_detail_column_is_optional(tmp_path) -> None:
    """The summary of a table that lacks any one of the optional columns: no error, and no sentence
    that needs the missing column."""
    from swimscale.analysis import DETAIL_COLUMNS

    table, _, _ = study(sizes=NOTE_SIZES, seeds=(0, 1, 2), n_queries=30)
    points = write_sweep(tmp_path, table, lambda n, s: n == 4096, {"ny": _clean("report", 2)})
    recall = build_recall_table(sweep_records(points, {"ny": str(tmp_path / "validate/ny/report.json")}, "converged"))
    results = analyse(recall.drop(columns=["run_file", "qrels_file"]), None, {}, {"n_boot": 50, "n_boot_fit": 5})
    full = summary_markdown(results, SETTINGS, recall)
    assert "(best at 600 of 600 updates)" in full and "stayed in training" in full
    for column in DETAIL_COLUMNS:
        text = summary_markdown(results, SETTINGS, recall.drop(columns=column))
        assert ("(best at 600 of 600 updates)" in text) == (column not in ("steps_at_best", "max_steps", "cap_bound")), column
        # Which sizes were cap-bound is the by-size table's flag (these results were analysed with the
        # column): without it in the recall table the summary still names N = 4,096, only not its seeds.
        assert f"The cap bound at N = 4,096{'' if column == 'cap_bound' else ': seeds'}" in text, column
        assert f"{CAP_UNDERESTIMATES} N = 4,096." in text, column
        assert ("stayed in training" in text) == (column not in ("overlap_mode", "overlap_relevant")), column
    # Analysed without the column, no size is flagged and no cap sentence is written.
    bare = recall.drop(columns=["run_file", "qrels_file", "cap_bound"])
    unflagged = analyse(bare, None, {}, {"n_boot": 50, "n_boot_fit": 5})
    assert (unflagged["by_size"]["flag"] == "").all()
    assert CAP_UNDERESTIMATES not in summary_markdown(unflagged, SETTINGS, bare)


def test_methods_with_their_own_zero_shot_are_not_said_to_share_it() -> None:
    table, _, _ = study(sizes=NOTE_SIZES, methods=("optical", "pooled"))
    table.loc[(table["size"] == 0) & (table["method"] == "pooled"), "recall_at_50"] += 0.05
    text = summary_markdown(analyse(table, None, {}, {"n_boot": 50, "n_boot_fit": 5}), SETTINGS, table)
    assert "2 methods, one section each: optical and pooled. Each method has its own N = 0 level" in text
    assert "same untrained student" not in text


def test_a_clean_overlap_screen_and_one_best_step_read_short(tmp_path) -> None:
    report = validate_report({"bench-ny": ("test", 5000, 0, 0, {}, {}), "bench-ny-dev": ("dev", 300, 0, 0, {}, {})})
    text, _ = _noted(tmp_path, lambda n, s: False, report)
    assert ("the overlap screen of the ny pool (`overlap: drop`) found no pool passage among bench-ny's documents; "
            "0 pool record(s) in all were left out") in text
    assert "best students at 50 to 150 updates (`steps_at_best`)" in text
    table, _, _ = study(sizes=NOTE_SIZES, seeds=(0,))
    points = write_sweep(tmp_path / "one", table, lambda n, s: False, {"ny": report})
    recall = build_recall_table(sweep_records(points, {"ny": str(tmp_path / "one/validate/ny/report.json")}, "converged"))
    one = summary_markdown(analyse(recall.drop(columns=["run_file", "qrels_file"]), None, {}, {"n_boot": 50, "n_boot_fit": 5}),
                           SETTINGS, recall)
    assert "best students at 50 updates (`steps_at_best`)" in one
