"""The moderators' values join the analysed table: language columns from the languages file, tokenizer
values per (language, benchmark) from moderator_values.tsv; a column the table has wins."""

import math

import pandas as pd

from swimscale.analysis._moderator_values import with_moderator_values


def test_values_join_by_language_and_benchmark(tmp_path):
    languages = tmp_path / "languages.tsv"
    languages.write_text("# header comment\ncode\ttier\tjoshi_class\tmbert_pretraining\n"
                         "ny\tvery-low\t1\tno\nyo\tvery-low\tunknown\tyes\n")
    values = tmp_path / "moderator_values.tsv"
    values.write_text("language\tbenchmark\tfertility\tunk_rate\n"
                      "ny\tb-ny\t2.5\t0.01\nny\tc-ny\t3.0\t0.02\nyo\tb-yo\t1.5\t0\n")
    table = pd.DataFrame({"language": ["ny", "ny", "yo", "zz"], "benchmark": ["b-ny", "c-ny", "b-yo", "b-zz"],
                          "recall_at_50": [0.1, 0.2, 0.3, 0.4]})
    out = with_moderator_values(table, languages, values)
    assert list(out["tokenizer_fertility"][:3]) == [2.5, 3.0, 1.5] and math.isnan(out["tokenizer_fertility"][3])
    assert list(out["unk_rate"][:3]) == [0.01, 0.02, 0.0]
    assert out["joshi_class"][0] == 1 and math.isnan(out["joshi_class"][2])  # 'unknown' stays missing
    assert list(out["mbert_pretraining"][:3]) == ["no", "no", "yes"]
    assert "tokenizer_fertility" not in table.columns  # the written table is left alone


def test_a_column_the_table_has_wins_and_no_files_change_nothing(tmp_path):
    table = pd.DataFrame({"language": ["ny"], "benchmark": ["b"], "joshi_class": [4]})
    languages = tmp_path / "languages.tsv"
    languages.write_text("code\ttier\tjoshi_class\nny\tlow\t1\n")
    assert with_moderator_values(table, languages)["joshi_class"][0] == 4
    pd.testing.assert_frame_equal(with_moderator_values(table), table)
    pd.testing.assert_frame_equal(with_moderator_values(table, tmp_path / "absent.tsv", tmp_path / "none.tsv"), table)
