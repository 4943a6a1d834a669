"""The validate stage's overlap screen and its re-check of each benchmark's manifest, as functions."""

import json

import pytest

from swimscale import data
from swimscale.data import _overlap as overlap
from swimscale.data import _validate as validate
from swimscale.errors import InputError


def pool(path, texts):
    """A pool whose record i has passage texts[i] (title, text)."""
    rows = [{"_id": f"r{i}", "lang": "Yoruba", "code": "yo", "query": f"ìbéèrè {i}", "title": title, "text": text}
            for i, (title, text) in enumerate(texts)]
    data.write_jsonl(path, rows)
    return path


def corpus(path, docs):
    data.write_jsonl(path, [{"docid": d, "title": title, "text": text} for d, (title, text) in docs.items()])
    return path


def test_passages_match_by_text_or_by_title_and_text():
    keys = overlap.passage_keys("Lagos", "Lagos is a city in Nigeria.")
    assert overlap.passage_keys("", "LAGOS is a city in  Nigeria") & keys  # the text alone, normalised
    assert overlap.passage_keys("", "Lagos. Lagos is a city in Nigeria") & keys  # a document without a title
    assert not overlap.passage_keys("Lagos", "Lagos is a town in Nigeria.") & keys


@pytest.mark.parametrize("mode, kept", [("drop", ["r1", "r2", "r3"]), ("report", ["r0", "r1", "r2", "r3"])])
def test_relevant_overlaps_are_dropped_or_reported_and_counted_per_benchmark(tmp_path, mode, kept):
    docs = corpus(tmp_path / "corpus.jsonl", {"d1": ("Lagos", "A city."), "d2": ("", "Another document.")})
    index = overlap.OverlapIndex()
    index.add_collection(docs, {"test": {"d1"}, "dev": set()})  # one collection, two benchmarks
    source = pool(tmp_path / "pool.jsonl", [("Lagos", "A city"), ("", "another document"), ("x", "y"), ("z", "w")])
    counts = overlap.screen_pool(source, "yo", index, mode, tmp_path / "out.jsonl", ["test", "dev"])
    assert counts["benchmarks"] == {"test": {"relevant": 1, "other": 1}, "dev": {"relevant": 0, "other": 2}}
    assert counts["overlapping_relevant"] == 1 and counts["dropped"] == (mode == "drop")
    assert [r["_id"] for r in data.read_pool(tmp_path / "out.jsonl")] == kept


def test_stop_names_the_record_and_the_document(tmp_path):
    docs = corpus(tmp_path / "corpus.jsonl", {"d1": ("Lagos", "A city.")})
    index = overlap.OverlapIndex()
    index.add_collection(docs, {"test": {"d1"}})
    source = pool(tmp_path / "pool.jsonl", [("x", "y"), ("Lagos", "A city.")])
    with pytest.raises(InputError, match=rf"{source}: record 2 \(_id 'r1'\): its passage is document 'd1', relevant "
                                         r"to a query of benchmark 'test' \(set pools.yo.overlap: drop"):
        overlap.screen_pool(source, "yo", index, "stop", tmp_path / "out.jsonl", ["test"])
    assert not (tmp_path / "out.jsonl").exists()


def manifest(tmp_path, prepared, inputs, counts):
    path = tmp_path / "benchmark.json"
    path.write_text(json.dumps({"files": data.checksums(prepared), "inputs": data.checksums(inputs), "counts": counts,
                                "dropped": {"unknown_document": 0}}))
    return path


def test_the_manifest_is_rechecked_against_the_files(tmp_path):
    prepared, raw = tmp_path / "qrels.txt", tmp_path / "raw-qrels.txt"
    prepared.write_text("q1 0 d1 1\n")
    raw.write_text("q1 0 d1 1\nq2 0 d2 1\n")
    counts = {"queries_read": 2, "queries": 1, "queries_lost": 0, "queries_without_relevant": 1}
    path = manifest(tmp_path, [prepared], [raw], counts)
    assert validate.recheck_manifest("b", path, [prepared])["dropped"] == {"unknown_document": 0}
    raw.write_text("q1 0 d1 1\n")  # the user's file changed since it was prepared from
    with pytest.raises(InputError, match=rf"{raw}: changed since benchmark 'b' was prepared from it"):
        validate.recheck_manifest("b", path, [prepared])
    path = manifest(tmp_path, [prepared], [raw], {**counts, "queries_without_relevant": 0})
    with pytest.raises(InputError, match=r"2 queries read but 1 accounted for"):  # a query vanished unexplained
        validate.recheck_manifest("b", path, [prepared])
    path = manifest(tmp_path, [prepared], [raw], counts)
    prepared.write_text("q1 0 d1 2\n")  # the prepared file is not the one the manifest describes
    with pytest.raises(InputError, match=rf"{prepared}: changed after benchmark 'b' was prepared"):
        validate.recheck_manifest("b", path, [prepared])


def test_a_small_corpus_carries_a_warning():
    assert data.small_corpus_warnings(51) == []
    (warning,) = data.small_corpus_warnings(50)
    assert warning.startswith("small_corpus: 50 documents, at most 50: Recall@50 is 1 for every run")


def test_text_key_equals_its_definition_character_by_character():
    """text_key's translate table against the definition it speeds up: NFKC, case-folded, each
    punctuation character (Unicode category P*) a space, whitespace collapsed; on random mixed scripts."""
    import random
    import unicodedata

    from swimscale.data import text_key

    def definition(text):
        folded = unicodedata.normalize("NFKC", text).casefold()
        return " ".join("".join(" " if unicodedata.category(c).startswith("P") else c for c in folded).split())

    rng = random.Random(0)
    alphabet = "abc XYZ,.;:!?'\"()-–—«»¿¡ÀÉÎõüßſﬁ’“”…\u00a0\u3000。、「」ابتث日本語テキスト\t\n"
    texts = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 80))) for _ in range(500)]
    assert [text_key(t) for t in texts] == [definition(t) for t in texts]
    assert text_key("Jesus  wept.") == text_key("JESUS WEPT") == "jesus wept"
