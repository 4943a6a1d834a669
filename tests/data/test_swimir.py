"""SWIM-IR pools from fixtures in the real layouts: a Hub dataset repository (README configs + parquet
shards `<code>/train-0000i-of-0000n.parquet`, read by `datasets.load_dataset`) and the release files
(`<section>/<code>/train.jsonl`, `<section>/<code>.jsonl`, parquet), with one fixture per bad record."""

import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from swimscale import data
from swimscale.config import defaults
from swimscale.data import _sampling as sampling
from swimscale.data import _swimir as swimir

NAMES = {"yo": "Yoruba", "sw": "Swahili", "bho": "Bhojpuri", "bn": "Bengali"}


def records(code, n, start=0):
    return [
        {"_id": f"{code}-{i}", "lang": NAMES[code], "code": code, "query": f"ìbéèrè {i}?", "title": f"Title {i}",
         "text": f"English passage number {i} about a topic."}
        for i in range(start, start + n)
    ]


def card(codes, present):
    """The README of a SWIM-IR dataset repository as the Hub has it: a YAML header with `configs:` (one
    `data_files` pattern per language) and `dataset_info:` (features and split sizes per language)."""
    configs = "".join(f"- config_name: {code}\n  data_files:\n  - split: train\n    path: {code}/train-*\n" for code in codes)
    features = "".join(f"    - name: {f}\n      dtype: string\n" for f in data.POOL_FIELDS)
    info = "".join(
        f"- config_name: {code}\n  features:\n{features}  splits:\n  - name: train\n    num_bytes: 1000\n"
        f"    num_examples: {present.get(code, 900000)}\n  download_size: 500\n  dataset_size: 1000\n"
        for code in codes
    )
    return f"---\nconfigs:\n{configs}dataset_info:\n{info}license: cc-by-sa-4.0\n---\n# SWIM-IR (test fixture)\n"


def hub_snapshot(root, by_code, shards=2, codes=None, layout="hub"):
    """A dataset repository as on the Hub, as `huggingface-cli download --include '<code>/*' --local-dir`
    leaves it: the card (listing `codes`, all of them by default) and the shards of the languages in
    `by_code` only — `<code>/train-0000i-of-0000n.parquet`, or with layout "convert" the
    refs/convert/parquet branch's `<code>/train/000i.parquet` — beside the CLI's own `.cache/`."""
    for code, rows in by_code.items():
        folder = root / code if layout == "hub" else root / code / "train"
        folder.mkdir(parents=True, exist_ok=True)
        per = -(-len(rows) // shards)
        for i in range(shards):
            table = pa.Table.from_pylist(rows[i * per:(i + 1) * per], schema=pa.schema(
                [(f, pa.string()) for f in data.POOL_FIELDS]))
            name = f"train-{i:05d}-of-{shards:05d}.parquet" if layout == "hub" else f"{i:04d}.parquet"
            pq.write_table(table, folder / name)
    (root / ".cache" / "huggingface" / "download").mkdir(parents=True, exist_ok=True)
    (root / "README.md").write_text(card(codes or list(by_code), {c: len(r) for c, r in by_code.items()}))
    return root


def release_jsonl(root, code, lines, section="cross_lingual", flat=False):
    """A release file of `lines`: records (dicts), text lines, or raw bytes (written as they are)."""
    path = root / section / (f"{code}.jsonl" if flat else f"{code}/train.jsonl")
    path.parent.mkdir(parents=True, exist_ok=True)

    def raw(line):
        if isinstance(line, bytes):
            return line
        return (line if isinstance(line, str) else json.dumps(line, ensure_ascii=False)).encode("utf-8")

    path.write_bytes(b"".join(raw(line) + b"\n" for line in lines))
    return path


def prepare(tmp_path, code="yo", sizes=(0, 2, 5), **pool):
    """prepare_pool as the rule calls it: `pool` is the `pools.<code>` entry, the schema's defaults filled in."""
    pool_path = tmp_path / "out" / f"{code}.jsonl"
    entry = {**defaults("pools"), **pool}
    manifest = data.prepare_pool(code, entry, pool_path, tmp_path / "out" / f"pool-{code}.json", list(sizes),
                                 tmp_path / "data")
    return manifest, pool_path


@pytest.fixture(autouse=True)
def offline(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")


def test_snapshot_read_directly(tmp_path):
    snapshot = hub_snapshot(tmp_path / "swim-ir-cross-lingual", {"yo": records("yo", 7), "sw": records("sw", 3)})
    manifest, pool = prepare(tmp_path, source="swimir_hf", dataset=str(snapshot), language_name="Yoruba")
    assert data.read_pool(pool, code="yo") == records("yo", 7)  # both shards, in order, nothing added
    assert "query_en" not in pool.read_text()  # passages, not translations: semi-relaxed OT
    assert manifest["counts"]["pool_records"] == 7 and manifest["counts"]["skipped_total"] == 0
    assert manifest["sizes"] == {"asked": [2, 5], "effective": {"2": 2, "5": 5}, "capped": [], "cap_sizes": False}
    assert manifest["files"][str(pool)] == data.sha256_of(pool)
    shards = sorted((snapshot / "yo").glob("*.parquet"))
    assert manifest["inputs"] == {str(f): data.sha256_of(f) for f in shards}  # what was read, checksummed
    assert not (tmp_path / "data" / "huggingface").exists()  # no Hub, no cache


CARD_LANGUAGES = list(swimir.HF_LANGUAGES[swimir.CROSS_LINGUAL])  # ar first, yo near the end


@pytest.mark.parametrize("layout", ["hub", "convert"])
def test_snapshot_staged_as_the_docs_say_for_a_language_that_is_not_the_cards_first(tmp_path, layout):
    """The real card lists 17 languages, ar first; a snapshot staged as docs/full_study.md says (one
    language's folder) is found under <data_dir>/swimir/<name> for the Hub id and prepares a valid pool,
    in the repository's layout and in the refs/convert/parquet one (`yo/train/0000.parquet`)."""
    snapshot = tmp_path / "data" / "swimir" / "swim-ir-cross-lingual"
    hub_snapshot(snapshot, {"yo": records("yo", 6)}, codes=CARD_LANGUAGES, layout=layout)
    manifest, pool = prepare(tmp_path, source="swimir_hf", dataset=swimir.CROSS_LINGUAL, language_name="Yoruba")
    assert data.read_pool(pool, code="yo") == records("yo", 6)
    assert str(snapshot) in manifest["input"] and manifest["counts"]["pool_records"] == 6


def test_the_datasets_route_fails_on_that_snapshot(tmp_path):
    """Why the snapshot is read directly: datasets cannot open it for a language that is not the card's
    first config (datasets 5.2.0, offline)."""
    datasets = pytest.importorskip("datasets")
    snapshot = hub_snapshot(tmp_path / "swim-ir-cross-lingual", {"yo": records("yo", 6)}, codes=CARD_LANGUAGES)
    with pytest.raises(Exception) as err:
        datasets.load_dataset(str(snapshot), "yo", split="train", cache_dir=str(tmp_path / "cache"))
    assert type(err.value).__name__ in ("DataFilesNotFoundError", "NonMatchingSplitsSizesError", "FileNotFoundError"), err.value


def test_snapshot_without_the_language_says_what_to_stage(tmp_path):
    snapshot = tmp_path / "data" / "swimir" / "swim-ir-cross-lingual"
    hub_snapshot(snapshot, {"sw": records("sw", 3)}, codes=CARD_LANGUAGES)
    with pytest.raises(data.DataMissingError) as err:
        prepare(tmp_path, source="swimir_hf", dataset=swimir.CROSS_LINGUAL)
    message = str(err.value)
    assert f"the snapshot {snapshot} has no yo/*.parquet nor yo/train/*.parquet (languages in it: sw)" in message
    assert f"huggingface-cli download nthakur/swim-ir-cross-lingual --repo-type dataset --include 'yo/*' --local-dir {snapshot}" in message


def test_snapshot_staged_under_data_dir_is_used_for_the_hub_id(tmp_path):
    hub_snapshot(tmp_path / "data" / "swimir" / "indic-swim-ir-cross-lingual", {"bho": records("bho", 4)}, shards=1)
    manifest, pool = prepare(tmp_path, code="bho", source="swimir_hf", dataset=swimir.INDIC, sizes=[4])
    assert len(data.read_pool(pool, code="bho")) == 4
    assert "indic-swim-ir-cross-lingual" in manifest["input"]


def test_hub_offline_without_data_says_what_to_download(tmp_path):
    with pytest.raises(data.DataMissingError) as err:
        prepare(tmp_path, source="swimir_hf", dataset=swimir.CROSS_LINGUAL)
    message = str(err.value)
    snapshot = tmp_path / "data" / "swimir" / "swim-ir-cross-lingual"
    # The command it gives leaves the files where the test above reads them.
    assert (f"huggingface-cli download nthakur/swim-ir-cross-lingual --repo-type dataset --include 'yo/*' "
            f"--local-dir {snapshot}") in message
    assert "Traceback" not in message and not (tmp_path / "out" / "yo.jsonl").exists()


@pytest.mark.parametrize("layout", ["dir", "flat", "parquet"])
def test_release_layouts(tmp_path, layout):
    root = tmp_path / "swim_ir_v1"
    rows = records("bho", 6)
    if layout == "parquet":
        (root / "cross_lingual_ext" / "bho").mkdir(parents=True)
        pq.write_table(pa.Table.from_pylist(rows), root / "cross_lingual_ext" / "bho" / "train-00000-of-00001.parquet")
    else:
        release_jsonl(root, "bho", rows, section="cross_lingual_ext", flat=layout == "flat")
    manifest, pool = prepare(tmp_path, code="bho", source="swimir_local", path=root, section="cross_lingual_ext")
    assert data.read_pool(pool, code="bho") == rows
    assert manifest["counts"]["records_read"] == 6


def test_release_missing_says_where_to_put_it(tmp_path):
    with pytest.raises(data.DataMissingError) as err:
        prepare(tmp_path, source="swimir_local", path=tmp_path / "nowhere")
    message = str(err.value)
    assert str(tmp_path / "nowhere" / "cross_lingual" / "yo" / "train.jsonl") in message
    assert swimir.RELEASE_URL in message and "pools.yo.path" in message


GOOD = records("yo", 1)[0]
BAD_LINES = {
    "malformed_json": ('{"_id": "b", "lang": "Yoruba",', "malformed JSON"),
    "not_utf8": (b'{"_id": "b", "query": "caf\xe9 \xff"}', "not valid UTF-8 at column 27 (byte 0xe9)"),
    "wrong_type": (json.dumps({**GOOD, "_id": "b", "query": ["a", "list"]}), "field 'query' is a list, not a string"),
    "not_an_object": (json.dumps(["a", "list"]), "expected a JSON object"),
    "missing_field": (json.dumps({k: v for k, v in GOOD.items() if k != "title"} | {"_id": "b"}), "missing field(s) title"),
    "empty_query": (json.dumps({**GOOD, "_id": "b", "query": "  "}), "empty 'query'"),
    "empty_text": (json.dumps({**GOOD, "_id": "b", "text": ""}), "empty 'text'"),
    "wrong_code": (json.dumps({**GOOD, "_id": "b", "code": "sw"}), "code 'sw' but language 'yo' was requested"),
    "wrong_lang": (json.dumps({**GOOD, "_id": "b", "lang": "Swahili"}), "lang 'Swahili' but 'Yoruba' was requested"),
    "duplicate_id": (json.dumps({**GOOD, "query": "again"}), f"duplicate _id '{GOOD['_id']}' (first on line 1)"),
}


@pytest.mark.parametrize("kind", sorted(BAD_LINES))
def test_each_bad_record_stops_with_file_line_and_reason(tmp_path, kind):
    line, reason = BAD_LINES[kind]
    file = release_jsonl(tmp_path / "rel", "yo", [GOOD, line, *records("yo", 3, start=5)])
    with pytest.raises(ValueError) as err:
        prepare(tmp_path, source="swimir_local", path=tmp_path / "rel", language_name="Yoruba", sizes=[1])
    assert str(err.value).startswith(f"{file}: line 2: {reason}")
    assert "on_bad_record: skip" in str(err.value)
    assert not (tmp_path / "out" / "yo.jsonl").exists()  # a failed job leaves no pool


def test_skip_flag_counts_every_kind(tmp_path):
    lines = [GOOD] + [line for line, _ in BAD_LINES.values()] + records("yo", 3, start=5)
    release_jsonl(tmp_path / "rel", "yo", lines)
    manifest, pool = prepare(tmp_path, source="swimir_local", path=tmp_path / "rel", language_name="Yoruba",
                             on_bad_record="skip", sizes=[4])
    assert manifest["counts"]["skipped"] == {kind: 1 for kind in swimir.BAD_RECORD_KINDS}
    assert manifest["counts"]["skipped_total"] == len(BAD_LINES) == 10 and manifest["counts"]["pool_records"] == 4
    assert manifest["skipped_examples"]["empty_text"] == [f"{tmp_path / 'rel' / 'cross_lingual' / 'yo' / 'train.jsonl'}: line 8: empty 'text'"]
    assert [r["_id"] for r in data.read_pool(pool, code="yo")] == ["yo-0", "yo-5", "yo-6", "yo-7"]


def test_bad_rows_in_the_hub_layout_name_the_row(tmp_path):
    rows = records("yo", 4)
    rows[2] = {**rows[2], "text": None}  # a null in parquet: the field is missing
    snapshot = hub_snapshot(tmp_path / "hub", {"yo": rows}, shards=1)
    with pytest.raises(ValueError, match=r"yo/train-00000-of-00001.parquet: row 3: missing field\(s\) text"):
        prepare(tmp_path, source="swimir_hf", dataset=str(snapshot), sizes=[1])
    rows[3] = {**rows[1]}  # and a duplicate
    snapshot = hub_snapshot(tmp_path / "hub2", {"yo": rows}, shards=1)
    manifest, _ = prepare(tmp_path, source="swimir_hf", dataset=str(snapshot), sizes=[1], on_bad_record="skip")
    assert manifest["counts"]["skipped"]["missing_field"] == 1 and manifest["counts"]["skipped"]["duplicate_id"] == 1
    assert "(first on row 2)" in manifest["skipped_examples"]["duplicate_id"][0]


def test_size_above_the_pool_is_an_error_unless_capped(tmp_path):
    release_jsonl(tmp_path / "rel", "yo", records("yo", 5))
    with pytest.raises(ValueError) as err:
        prepare(tmp_path, source="swimir_local", path=tmp_path / "rel", sizes=[0, 2, 6, 10])
    assert "pool 'yo': size 10 asked" in str(err.value) and "only 5 usable records" in str(err.value)
    assert "sizes above it: 6, 10" in str(err.value) and "cap_sizes" in str(err.value)
    assert not (tmp_path / "out" / "yo.jsonl").exists()
    manifest, pool = prepare(tmp_path, source="swimir_local", path=tmp_path / "rel", sizes=[0, 2, 6, 10], cap_sizes=True)
    assert manifest["sizes"]["effective"] == {"2": 2, "6": 5, "10": 5} and manifest["sizes"]["capped"] == [6, 10]
    # The subsample step then writes the capped sample: the whole pool, in rank order.
    sample, available = data.sample_pool(pool, 10, seed=1, code="yo", cap=True)
    assert available == 5 and sample == sampling.subsample(data.read_pool(pool), 5, 1)
    with pytest.raises(ValueError, match="sample size 10 asked, but only 5 records are available"):
        data.sample_pool(pool, 10, seed=1, code="yo")


def test_streamed_sample_equals_the_in_memory_one(tmp_path):
    pool = tmp_path / "pool.jsonl"
    data.write_jsonl(pool, records("yo", 200))
    for size in (1, 17, 200):
        for seed in (0, 3):
            sample, available = data.sample_pool(pool, size, seed, code="yo")
            assert available == 200 and sample == sampling.subsample(data.read_pool(pool), size, seed)
    small, _ = data.sample_pool(pool, 17, 3)
    large, _ = data.sample_pool(pool, 50, 3)
    assert [r["_id"] for r in small] == [r["_id"] for r in large[:17]]  # still nested
    assert data.sample_pool(pool, 0, 0) == ([], 200)

