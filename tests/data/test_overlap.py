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
    none = {"near_duplicate": 0, "query": 0}
    assert counts["benchmarks"] == {"test": {"relevant": 1, "other": 1, **none}, "dev": {"relevant": 0, "other": 2, **none}}
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


# A relevant test passage of ~60 words and its planted near-duplicates.
GOLD = ("The Niger River is the main river of West Africa, extending about 4,180 kilometres. Its drainage basin is "
        "2,117,700 square kilometres in area. Its source is in the Guinea Highlands in south-eastern Guinea near the "
        "Sierra Leone border. It runs in a crescent shape through Mali, Niger, on the border with Benin and then "
        "through Nigeria, discharging through a massive delta, known as the Niger Delta, into the Gulf of Guinea in "
        "the Atlantic Ocean.")
OTHER = ("Lagos is the most populous city in Nigeria, with an estimated population of over fifteen million people "
         "within the city proper. It was the national capital until December 1991, when the government moved the "
         "capital to Abuja in the centre of the country, and it remains a major financial centre for Africa.")


def planted():
    words = GOLD.split()
    return [
        ("Niger River", GOLD.replace(",", "").replace(".", ";").replace("-", " ")),  # changed punctuation
        ("Niger River", GOLD.replace("crescent", "curved")),  # one changed word
        ("Niger River", " ".join(words[: len(words) // 2])),  # a truncated copy: its first half
        ("Niger River", " ".join(words[10:40])),  # a stretch from its middle
        ("Niger River", OTHER),  # unrelated, sharing the relevant document's title
        ("Lagos", OTHER.replace("fifteen", "15")),  # near a document that is not relevant: counted only as exact
    ]


@pytest.mark.parametrize("tau", [0.7, 0.8])
def test_near_duplicates_of_relevant_passages_are_dropped_and_unrelated_ones_kept(tmp_path, tau):
    docs = corpus(tmp_path / "corpus.jsonl", {"gold": ("Niger River", GOLD), "lagos": ("Lagos", OTHER)})
    index = overlap.OverlapIndex(jaccard=tau)
    index.add_collection(docs, {"test": {"gold"}})
    source = pool(tmp_path / "pool.jsonl", planted())
    counts = overlap.screen_pool(source, "yo", index, "drop", tmp_path / "out.jsonl", ["test"])
    assert [r["_id"] for r in data.read_pool(tmp_path / "out.jsonl")] == ["r4", "r5"]  # the unrelated ones kept
    assert counts["near_duplicates"] == 4 and counts["dropped"] == 4 and counts["overlapping_relevant"] == 4
    # r4 is the non-relevant document word for word: counted as `other`, kept.
    assert counts["benchmarks"]["test"] == {"relevant": 4, "other": 1, "near_duplicate": 4, "query": 0}
    assert counts["near_duplicate_jaccard"] == tau
    # Without the near-duplicate screen (tau None) the exact screen finds none of them.
    exact = overlap.OverlapIndex()
    exact.add_collection(docs, {"test": {"gold"}})
    assert overlap.screen_pool(source, "yo", exact, "drop", tmp_path / "out2.jsonl", ["test"])["dropped"] == 0


def test_near_duplicate_test_is_exact_after_minhash_proposes():
    from swimscale.data import _neardup as near

    a = near.shingles(near.words(GOLD), 3)
    b = near.shingles(near.words(GOLD.replace("crescent", "curved")), 3)
    assert len(a & b) / len(a | b) > 0.9 and near.is_near(b, a, 0.7)
    half = near.shingles(near.words(GOLD)[:30], 3)
    assert len(half & a) / len(half | a) < 0.7 and near.is_near(half, a, 0.7)  # contained, not similar
    assert not near.is_near(near.shingles(near.words(OTHER), 3), a, 0.7)
    assert not near.is_near(near.shingles(["a", "b", "c", "d"], 3), a, 0.1)  # too short to test
    # The MinHash estimate tracks the Jaccard similarity (36 permutations: within ~0.25).
    sig_a, sig_b = near.signature(a), near.signature(b)
    estimate = sum(x == y for x, y in zip(sig_a, sig_b)) / near.NUM_PERM
    assert abs(estimate - len(a & b) / len(a | b)) < 0.25 and near.signature(a) == sig_a  # deterministic


def test_pool_queries_equal_or_near_a_benchmark_query_are_dropped(tmp_path):
    docs = corpus(tmp_path / "corpus.jsonl", {"gold": ("Niger River", GOLD)})
    index = overlap.OverlapIndex(jaccard=0.7)
    index.add_collection(docs, {"test": {"gold"}})
    index.add_queries("test", {"q1": "how long is the niger river in west africa in kilometres", "q2": "Lagos"})
    rows = [{"_id": f"r{i}", "lang": "Yoruba", "code": "yo", "query": q, "title": "t", "text": f"passage number {i}"}
            for i, q in enumerate(["How long is the Niger River in West Africa, in kilometres?",  # near (punctuation)
                                   "how long is the niger river in west africa in miles",  # one word changed
                                   "LAGOS",  # exact, short
                                   "where is lagos",  # short and different: kept
                                   "what is the population of lagos in nigeria today"])]  # unrelated: kept
    data.write_jsonl(tmp_path / "pool.jsonl", rows)
    counts = overlap.screen_pool(tmp_path / "pool.jsonl", "yo", index, "drop", tmp_path / "out.jsonl", ["test"])
    assert [r["_id"] for r in data.read_pool(tmp_path / "out.jsonl")] == ["r3", "r4"]
    assert counts["overlapping_queries"] == 3 and counts["benchmarks"]["test"]["query"] == 3


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
