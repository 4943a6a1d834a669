"""Zero-data controls (pool source `none`): languages with a benchmark and no training data, N = 0 only."""

import json

import pytest

from swimscale import data
from swimscale.data import _pools
from swimscale.errors import InputError


def entry(**keys):
    return {"source": "none", "sizes": [0], "cap_sizes": False, **keys}


def test_a_control_has_only_size_zero():
    _pools.check_no_pool("hne", entry())
    for sizes in ([0, 100], None, [100]):
        with pytest.raises(InputError, match=r"config 'pools.hne.sizes': source none .* must be \[0\]"):
            data.POOL_SOURCES["none"].check_entry("pools", "hne", entry(sizes=sizes))


def test_its_pool_is_empty_and_its_manifest_says_so(tmp_path):
    pool, manifest = tmp_path / "pools" / "hne.jsonl", tmp_path / "manifests" / "pool-hne.json"
    written = data.prepare_pool("hne", entry(), pool, manifest, [0], tmp_path)
    assert pool.read_text() == "" and json.loads(manifest.read_text()) == written
    assert written["counts"] == {"records_read": 0, "pool_records": 0} and written["source"] == "none"
    with pytest.raises(InputError, match="no size above 0"):
        data.prepare_pool("hne", entry(), pool, manifest, [0, 10], tmp_path)


def test_validation_accepts_an_empty_pool_only_without_trained_sizes(tmp_path):
    from swimscale.data import _validate

    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    _validate.check_pool_file(empty, allow_empty=True)
    with pytest.raises(InputError, match="empty pool file"):
        _validate.check_pool_file(empty)


def test_the_screen_passes_an_empty_pool_through(tmp_path):
    from swimscale.data import _overlap

    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    counts = _overlap.screen_pool(empty, "hne", _overlap.OverlapIndex(jaccard=0.7), "drop", tmp_path / "out.jsonl", ["b"])
    assert (tmp_path / "out.jsonl").read_text() == "" and counts["pool_records_read"] == counts["dropped"] == 0
