"""The streamed sample checks the pool it reads and says what is wrong (tests/data/test_sampling.py:
nesting and seeds; tests/data/test_swimir.py: the streamed sample equals the in-memory one)."""

import pytest

from swimscale.data import sample_pool, subsample, write_jsonl


def records(code, n):
    return [{"_id": f"{code}-{i}", "lang": "Yoruba", "code": code, "query": f"q{i}", "title": "", "text": f"t{i}"}
            for i in range(n)]


@pytest.mark.parametrize("size", [0, 2])
def test_a_record_of_another_language_stops_the_sample(tmp_path, size):
    pool = tmp_path / "pool.jsonl"
    write_jsonl(pool, records("yo", 3) + records("ny", 1))
    assert sample_pool(pool, size, 0)[1] == 4  # no language asked: every record counts
    with pytest.raises(ValueError, match=r"line 4: code 'ny' but language 'yo' was requested"):
        sample_pool(pool, size, 0, code="yo")


def test_sizes_below_zero_or_above_the_pool_say_so(tmp_path):
    pool = tmp_path / "pool.jsonl"
    write_jsonl(pool, records("yo", 2))
    with pytest.raises(ValueError) as err:
        sample_pool(pool, -1, 0)
    assert str(err.value) == "sample size must be >= 0, got -1"
    with pytest.raises(ValueError) as err:
        subsample(records("yo", 2), 3, 0)
    assert str(err.value) == "pool: sample size 3 asked, but only 2 records are available"
