"""The literature table's numbers (analysis/_literature.py): each point's gain over its own series' N = 0
value, the series with an N axis, and the checks of config/literature.tsv, row by row."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from swimscale.analysis._literature import (
    LITERATURE_COLUMNS,
    LITERATURE_TABLE_COLUMNS,
    literature_table,
    read_literature,
    series_of,
)
from swimscale.errors import InputError

GOOD = {"source": "S", "url": "https://x.org", "setting": "s", "language": "xx", "n": "10", "metric": "m",
        "value": "1.5", "model": "M", "note": ""}


def _write(path: Path, rows: list[dict], columns=LITERATURE_COLUMNS, comment: str = "") -> Path:
    path.write_text(comment + pd.DataFrame(rows, columns=columns).to_csv(sep="\t", index=False))
    return path


def _points() -> pd.DataFrame:
    rows = [
        ("A", "s1", "xx", 1000.0, 30.0), ("A", "s1", "xx", 0.0, 10.0), ("A", "s1", "xx", 100.0, 20.0),
        ("A", "s1", "yy", 100.0, 5.0),  # no N = 0 in its series
        ("B", "s1", "xx", 100.0, 50.0), ("B", "s1", "xx", 0.0, 45.0),  # another source: its own N = 0
        ("A", "s2", "xx", 0.0, 1.0), ("A", "s2", "xx", 0.0, 2.0), ("A", "s2", "xx", 10.0, 3.0),  # two N = 0 rows
        ("A", "s1", "xx", math.nan, 0.19),  # not on an N axis (a fitted exponent)
    ]
    return pd.DataFrame([{**GOOD, "source": s, "setting": t, "language": lang, "n": n, "value": v}
                         for s, t, lang, n, v in rows])[LITERATURE_COLUMNS]


def test_gain_over_the_series_own_n0() -> None:
    points = _points()
    table = literature_table(points)
    assert list(table.columns) == LITERATURE_TABLE_COLUMNS and "gain_over_n0" not in points.columns
    gains = table["gain_over_n0"].tolist()
    assert gains[:3] == [20.0, 0.0, 10.0] and gains[4:6] == [5.0, 0.0]
    assert math.isnan(gains[3]) and all(math.isnan(g) for g in gains[6:9])  # no N = 0, or two of them
    assert gains[9] == pytest.approx(0.19 - 10.0)  # in the series, though not on its N axis


def test_series_with_and_without_n0_sorted_by_n() -> None:
    table = literature_table(_points())
    with_zero = series_of(table, with_zero=True)
    assert [key for key, _ in with_zero] == [("A", "s1", "xx"), ("B", "s1", "xx"), ("A", "s2", "xx")]
    assert with_zero[0][1]["n"].tolist() == [0.0, 100.0, 1000.0]
    assert [key for key, _ in series_of(table, with_zero=False)] == [("A", "s1", "yy")]


def test_read_literature_converts_and_keeps_words(tmp_path: Path) -> None:
    rows = [GOOD, {**GOOD, "n": "", "language": "NA", "url": "http://y.org", "value": "-0.5", "model": ""},
            {**GOOD, "n": "0"}]
    path = _write(tmp_path / "lit.tsv", rows, columns=[*LITERATURE_COLUMNS, "extra"], comment="# published points\n")
    table = read_literature(path)
    assert list(table.columns) == LITERATURE_COLUMNS
    assert table["value"].tolist() == [1.5, -0.5, 1.5] and table["value"].dtype == float
    assert table["n"].iloc[[0, 2]].tolist() == [10.0, 0.0] and math.isnan(table["n"].iloc[1])
    assert table["language"].tolist() == ["xx", "NA", "xx"] and table["model"].iloc[1] == ""
    assert read_literature(str(path)).equals(table)


@pytest.mark.parametrize("column", ["source", "url", "setting", "metric", "value"])
def test_an_empty_required_field_is_named_with_its_row(tmp_path: Path, column: str) -> None:
    path = _write(tmp_path / "lit.tsv", [GOOD, {**GOOD, column: "  "}])
    with pytest.raises(InputError, match=rf"lit\.tsv, row 2 of the table, column {column}: empty$"):
        read_literature(path)


@pytest.mark.parametrize("row, expected", [
    ({"url": "ftp://x.org"}, "column url: 'ftp://x.org' is not a web address"),
    ({"n": "many"}, "column n: 'many' is not a number of training pairs ≥ 0"),
    ({"n": "-1"}, "column n: '-1' is not a number of training pairs ≥ 0"),
    ({"value": "1.5%"}, "column value: '1.5%' is not a number"),
])
def test_a_bad_field_is_named_with_its_row(tmp_path: Path, row: dict, expected: str) -> None:
    path = _write(tmp_path / "lit.tsv", [GOOD, GOOD, {**GOOD, **row}])
    with pytest.raises(InputError) as error:
        read_literature(path)
    assert str(error.value) == f"{path}, row 3 of the table, {expected}"


def test_a_missing_file_or_column_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError) as error:
        read_literature(tmp_path / "none.tsv")
    assert str(error.value) == f"literature table {tmp_path / 'none.tsv'} not found"
    with pytest.raises(InputError, match="not found"):
        read_literature(tmp_path)  # a folder is no table
    path = _write(tmp_path / "lit.tsv", [GOOD], columns=[c for c in LITERATURE_COLUMNS if c not in ("n", "note")])
    with pytest.raises(InputError) as error:
        read_literature(path)
    assert str(error.value) == f"{path}: missing column(s) n, note (needs {', '.join(LITERATURE_COLUMNS)})"


def test_whole_numbers_are_read_as_floats_and_commas_are_no_separator(tmp_path: Path) -> None:
    rows = [{**GOOD, "n": "0", "value": "6", "note": "Table 5, mean"}, {**GOOD, "n": "6000", "value": "25", "note": "Table 5, all"}]
    path = _write(tmp_path / "lit.tsv", [{**r, "page, line": "p. 5, l. 3"} for r in rows],
                  columns=[*LITERATURE_COLUMNS, "page, line"])
    table = read_literature(path)
    assert table["n"].dtype == float and table["value"].dtype == float
    assert table["note"].tolist() == ["Table 5, mean", "Table 5, all"]
    assert literature_table(table)["gain_over_n0"].tolist() == [0.0, 19.0]


def test_no_series_with_an_n0_row_gives_no_gains() -> None:
    points = _points()
    table = literature_table(points[points["n"] != 0])
    assert list(table.columns) == LITERATURE_TABLE_COLUMNS and table["gain_over_n0"].isna().all()
