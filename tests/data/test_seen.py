"""SeenIds: the duplicate check of a streamed pool answers as a dict of ids would, in far less memory."""

import random
import tracemalloc

import pytest

from swimscale.data import _seen
from swimscale.data._records import record_problem
from swimscale.data._seen import SeenIds


def test_answers_as_a_dict_across_merged_runs(monkeypatch):
    monkeypatch.setattr(SeenIds, "RECENT", 8)  # many flushes and merges of runs of doubling size
    rng = random.Random(0)
    ids = [f"id-{rng.randrange(10**9)}" for _ in range(500)]
    stream = ids + rng.sample(ids, 100)  # each of these 100 repeats an earlier id
    rng.shuffle(stream)
    seen, reference = SeenIds(), {}
    for line, record_id in enumerate(stream, 1):
        prefix = "row" if line % 3 else "line"  # places keep their own prefix
        assert (record_id in seen) == (record_id in reference)
        if record_id in reference:
            assert seen[record_id] == reference[record_id]
        else:
            seen[record_id] = reference[record_id] = f"{prefix} {line}"
    assert len(seen) == len(reference) and len(seen._runs) > 1
    assert [len(keys) for keys, _ in seen._runs] == sorted((len(keys) for keys, _ in seen._runs), reverse=True)
    with pytest.raises(KeyError):
        seen["never-seen"]


def test_record_problem_names_the_first_place_of_a_duplicate():
    seen = SeenIds()
    record = {"_id": "yo-7", "lang": "Yoruba", "code": "yo", "query": "q", "title": "t", "text": "x"}
    assert record_problem(dict(record), seen=seen, where="line 3") is None
    assert record_problem(dict(record), seen=seen, where="line 9") == ("duplicate_id", "duplicate _id 'yo-7' (first on line 3)")


def test_a_place_must_end_with_its_number():
    with pytest.raises(ValueError, match="expected '<prefix> <number>'"):
        SeenIds()["a"] = "line three"


def test_memory_per_id_is_a_fraction_of_a_dicts():
    n = 200_000
    tracemalloc.start()
    seen = SeenIds()
    for i in range(n):
        seen[f"yo-{i}"] = f"line {i + 1}"
    compact = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    tracemalloc.start()
    reference = {f"yo-{i}": f"line {i + 1}" for i in range(n)}
    plain = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    assert len(reference) == len(seen) == n
    # 16 bytes per id in the sorted runs plus at most RECENT ids in the dict, against ~150 in a dict.
    assert compact < 16 * n + 150 * SeenIds.RECENT + 2**20 and compact < plain / 3


def test_digests_are_64_bits_of_blake2b():
    import hashlib

    assert _seen._digest("yo-1") == int.from_bytes(hashlib.blake2b(b"yo-1", digest_size=8).digest(), "little")
