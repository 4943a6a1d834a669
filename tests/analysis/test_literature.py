"""The literature table (config/literature.tsv) and the rank-sensitive metric computed from run files."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from swimscale.analysis._literature import LITERATURE_COLUMNS, literature_table, read_literature
from swimscale.analysis._ranks import first_relevant_log2_rank, first_relevant_rank
from swimscale.errors import InputError
from swimscale.retrieval import mrr_at_k, recall_at_k
from tests.analysis.test_cli import LITERATURE

SWIM_IR = "https://arxiv.org/abs/2311.05800"
SCALING = "https://arxiv.org/abs/2403.18684"
# Every published point, as (url, n, value). SWIM-IR (Thakur et al. 2024, NAACL, https://arxiv.org/abs/2311.05800):
# XOR-Retrieve dev, §3.3 and §3.5 (2K, 250K, 500K = 59.6 + 3.6, 7M = 59.6 + 7.1; mContriever-X 59.6 at 15.2K human
# pairs), and XTREME-UP test, Table 5 (averages and per language, N = 0 mDPR and ≈6K SWIM-X). Scaling laws for dense
# retrieval (Fang et al. 2024, SIGIR, https://arxiv.org/abs/2403.18684), Table 2: the two fitted exponents.
PUBLISHED_POINTS = [(SWIM_IR, 2000, 49.1), (SWIM_IR, 250000, 60.5), (SWIM_IR, 500000, 63.2), (SWIM_IR, 7000000, 66.7),
               (SWIM_IR, 15200, 59.6), (SWIM_IR, 0, 6.3), (SWIM_IR, 6000, 25.2), (SCALING, None, 0.19), (SCALING, None, 0.50)]
PER_LANGUAGE = ("as 2.6 24.4; bho 6.4 27.7; brx 0.4 4.3; gbm 7.2 28.3; gom 1.3 25.4; gu 8.6 29.4; hi 13.3 32.4; "
                "hne 5.2 28.8; kn 10.4 30.1; mai 6.4 31.8; ml 12.3 34.4; mni 0.2 5.1; mr 8.9 30.7; mwr 5.8 25.7; "
                "or 0.4 15.8; pa 6.0 29.6; ps 5.6 20.6; sa 5.2 26.1; ta 10.2 27.9; ur 10.0 26.1")


def test_config_literature_has_every_published_point_with_its_url() -> None:
    table = read_literature(LITERATURE)
    points = {(u, None if math.isnan(n) else int(n), v) for u, n, v in zip(table["url"], table["n"], table["value"])}
    for point in PUBLISHED_POINTS:
        assert point in points, point
    for item in PER_LANGUAGE.split("; "):
        code, zero, trained = item.split()
        rows = table[table["language"] == code].set_index("n")["value"]
        assert (rows[0.0], rows[6000.0]) == (float(zero), float(trained)), code
    assert len(table) == len(PUBLISHED_POINTS) + 2 * 20
    assert table["url"].isin([SWIM_IR, SCALING]).all() and (table["note"] != "").all()
    # Each row's citation: the paper (url) and where in it (its note opens with the section or table).
    assert table["note"].str.match(r"(§\d|Table \d)").all(), table.loc[~table["note"].str.match(r"(§\d|Table \d)"), "note"]


def test_gain_over_the_series_own_n0() -> None:
    table = literature_table(read_literature(LITERATURE))
    xtreme = table[(table["language"] == "mean of 20")].set_index("n")
    assert xtreme.loc[6000.0, "gain_over_n0"] == pytest.approx(25.2 - 6.3)
    assert table.loc[table["language"] == "brx", "gain_over_n0"].max() == pytest.approx(4.3 - 0.4)
    assert table.loc[table["setting"].str.startswith("XOR"), "gain_over_n0"].isna().all()  # no N = 0 there


@pytest.mark.parametrize(
    "row, expected",
    [
        ({"url": "arxiv.org/abs/1"}, r"row 1 of the table, column url: 'arxiv.org/abs/1' is not a web address"),
        ({"value": "high"}, r"row 1 of the table, column value: 'high' is not a number"),
        ({"n": "-5"}, r"row 1 of the table, column n: '-5' is not a number of training pairs ≥ 0"),
        ({"source": ""}, r"row 1 of the table, column source: empty"),
    ],
)
def test_bad_literature_rows_are_named(tmp_path: Path, row: dict, expected: str) -> None:
    good = {"source": "S", "url": "https://x.org", "setting": "s", "language": "xx", "n": "10", "metric": "m",
            "value": "1.5", "model": "M", "note": ""}
    path = tmp_path / "lit.tsv"
    pd.DataFrame([{**good, **row}], columns=LITERATURE_COLUMNS).to_csv(path, sep="\t", index=False)
    with pytest.raises(InputError, match=expected):
        read_literature(path)


def test_first_relevant_rank_agrees_with_the_retrieval_metrics() -> None:
    """1/rank is MRR@10 where the rank is ≤ 10; rank ≤ 50 is a Recall@50 hit (one relevant document);
    ties are ordered as trec_eval orders them (equal float32 scores: larger docid first)."""
    rng = np.random.default_rng(0)
    run, qrels = {}, {}
    for q in range(300):
        docs = [f"d{q}_{k:03d}" for k in range(100)]
        scores = np.round(rng.normal(size=100), 1)  # many ties
        run[f"q{q}"] = dict(zip(docs, scores.tolist()))
        relevant = docs[rng.integers(0, 100)] if q % 7 else f"missing{q}"  # some never retrieved
        qrels[f"q{q}"] = {relevant: 1, docs[0]: 0}
    ranks = first_relevant_log2_rank(run, qrels).set_index("qid")["log2_first_rank"]
    mrr, recall = mrr_at_k(run, qrels, 10), recall_at_k(run, qrels, 50)
    for qid, log2_rank in ranks.items():
        rank = 2.0**log2_rank
        assert mrr[qid] == pytest.approx(1 / rank if rank <= 10 else 0.0)
        assert recall[qid] == float(rank <= 50)
    assert (ranks[[f"q{q}" for q in range(0, 300, 7)]] == math.log2(101)).all()  # not retrieved: depth + 1


def test_first_relevant_rank_takes_the_best_relevant_document() -> None:
    docs = {"a": 3.0, "b": 2.0, "c": 2.0, "d": 1.0}
    assert first_relevant_rank(docs, {"d", "b"}, 4) == 3  # c outranks b on the docid tie-break
    assert first_relevant_rank(docs, {"c"}, 4) == 2
    assert first_relevant_rank(docs, {"z"}, 4) == 5
