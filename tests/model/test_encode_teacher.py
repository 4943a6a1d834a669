"""Each teacher scored as it was trained: L2-normalised (cosine) or raw inner product
(``teacher.normalize``), and passages joined from title and text as it read them
(``teacher.passage_format``). Real all-MiniLM-L6-v2 weights (bundled)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from swimscale.config import defaults, validated
from swimscale.errors import InputError
from swimscale.model import encode_texts, format_passage, load_encoder, read_passages
from swimscale.retrieval import build_flat_ip, search
from tests.model.bible import TEACHER, teacher_settings
PASSAGES = [
    "In the beginning God created the heaven and the earth.",
    "And God said, Let there be light: and there was light.",
    "Jesus wept.",
    "The Lord is my shepherd; I shall not want.",
    "For God so loved the world, that he gave his only begotten Son.",
    "And the earth was without form, and void; and darkness was upon the face of the deep.",
    "Blessed are the meek: for they shall inherit the earth.",
    "A soft answer turneth away wrath: but grievous words stir up anger.",
    "The heavens declare the glory of God; and the firmament sheweth his handywork.",
    "Go to the ant, thou sluggard; consider her ways, and be wise.",
    "Man shall not live by bread alone.",
    "Love is patient and kind, it does not envy and is not proud, it keeps no record of wrongs.",
]
QUERIES = ["who made the world", "light", "weeping", "bread", "anger", "wisdom of ants", "love", "shepherd"]


@pytest.fixture(scope="module")
def teacher():
    torch.set_num_threads(1)
    return load_encoder(TEACHER, torch.device("cpu"))


def encode(teacher, texts, normalize):
    tokenizer, model = teacher
    return encode_texts(tokenizer, model, texts, teacher_settings(batch_size=4, max_length=64, normalize=normalize))


def ranked(results, qid):
    return [d for d, _ in results[qid]], np.array([s for _, s in results[qid]])


def test_normalised_scores_are_cosines_and_raw_scores_are_raw_dot_products(teacher):
    raw_p, raw_q = encode(teacher, PASSAGES, False), encode(teacher, QUERIES, False)
    unit_p, unit_q = encode(teacher, PASSAGES, True), encode(teacher, QUERIES, True)
    # The same vectors, scaled: normalising is the only difference.
    assert np.allclose(unit_p, raw_p / np.linalg.norm(raw_p, axis=1, keepdims=True), atol=1e-5)
    assert not np.allclose(np.linalg.norm(raw_p, axis=1), 1.0, atol=0.05)

    docids, qids = [f"p{i}" for i in range(len(PASSAGES))], [f"q{i}" for i in range(len(QUERIES))]
    k = len(PASSAGES)
    by_cosine = search(build_flat_ip(unit_p, True), unit_q, qids, docids, k)
    by_dot = search(build_flat_ip(raw_p, False), raw_q, qids, docids, k)

    cosine = (raw_q @ raw_p.T) / np.outer(np.linalg.norm(raw_q, axis=1), np.linalg.norm(raw_p, axis=1))
    dot = raw_q @ raw_p.T
    rankings_differ = 0
    for i, qid in enumerate(qids):
        cos_docs, cos_scores = ranked(by_cosine, qid)
        dot_docs, dot_scores = ranked(by_dot, qid)
        assert np.all(np.abs(cos_scores) <= 1 + 1e-5)
        assert cos_docs == [docids[j] for j in np.argsort(-cosine[i], kind="stable")]
        assert np.allclose(cos_scores, np.sort(cosine[i])[::-1], atol=1e-5)
        assert dot_docs == [docids[j] for j in np.argsort(-dot[i], kind="stable")]
        assert np.allclose(dot_scores, np.sort(dot[i])[::-1], rtol=1e-5)
        rankings_differ += cos_docs != dot_docs
    assert rankings_differ > 0  # the vector's length matters for the raw inner product


def test_passage_format_joins_title_and_text_and_drops_an_empty_title():
    assert format_passage("Malawi", "A country.", "{title} {text}") == "Malawi A country."
    assert format_passage("Malawi", "A country.", "{title}. {text}") == "Malawi. A country."
    assert format_passage("Malawi", "A country.", "{title} [SEP] {text}") == "Malawi [SEP] A country."
    for empty in ("", "   ", None):
        assert format_passage(empty, "A country.", "{title}. {text}") == "A country."  # no stray ". "
    for bad in ("{text}", "{title} {body}", "{title} {text} {title}", "{title {text}"):
        with pytest.raises(InputError, match="teacher.passage_format"):
            format_passage("t", "x", bad)


def test_the_schema_default_is_the_pyserini_join_and_refuses_what_format_passage_refuses(tiny_config):
    assert defaults("teacher")["passage_format"] == "{title} {text}"
    assert defaults("teacher")["normalize"] is True
    from jsonschema import ValidationError

    for bad in ("{text}", "{title} {body}", "{title} {{text}}"):
        tiny_config["teacher"]["passage_format"] = bad
        with pytest.raises(ValidationError):
            validated(tiny_config)


def test_read_passages_formats_each_document_in_file_order(tmp_path):
    corpus = tmp_path / "corpus.jsonl"
    docs = [{"docid": "b", "title": "Lilongwe", "text": "The capital."},
            {"docid": "a", "title": "", "text": "No title here."},
            {"docid": "c", "text": "Title key absent."}]
    corpus.write_text("".join(json.dumps(d) + "\n" for d in docs), encoding="utf-8")
    assert read_passages(corpus, "{title}: {text}") == (
        ["b", "a", "c"], ["Lilongwe: The capital.", "No title here.", "Title key absent."])
    corpus.write_text(corpus.read_text() + json.dumps(docs[0]) + "\n")
    with pytest.raises(ValueError, match="line 4: duplicate docid 'b'"):
        read_passages(corpus, "{title} {text}")
