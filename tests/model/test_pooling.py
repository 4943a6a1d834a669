"""Sentence embeddings against the library the bundled retriever was published with.

all-MiniLM-L6-v2 is a Sentence-Transformers model: its published embedding is SentenceTransformer's
mean pooling over the attended tokens, L2-normalised. ``encode_texts`` must give the same vectors
(texts of very different lengths, so every batch is padded), and ``pooling="cls"`` the vectors of a
Sentence-Transformers pipeline that pools the [CLS] token instead.
"""

import numpy as np
import pytest
import torch
from sentence_transformers import SentenceTransformer
from sentence_transformers.sentence_transformer.modules import Normalize, Pooling, Transformer

from swimscale.model import encode_texts, load_encoder, pool, resolve_model
from tests.model.bible import TEACHER, teacher_settings

MEAN = teacher_settings(batch_size=3, max_length=128, pooling="mean")
CLS = teacher_settings(batch_size=3, max_length=128, pooling="cls")
TEXTS = [
    "Jesus wept.",
    "In the beginning God created the heaven and the earth.",
    "And the earth was without form, and void; and darkness was upon the face of the deep. And the Spirit "
    "of God moved upon the face of the waters.",
    "God is love.",
    "Ndipo anati Mulungu, Kuyere; ndipo kunayera.",
]


@pytest.fixture(scope="module")
def teacher():
    torch.set_num_threads(1)
    return load_encoder(TEACHER, torch.device("cpu"))


@pytest.fixture(scope="module")
def path():
    return resolve_model(TEACHER)


def test_mean_pooling_is_sentence_transformers_embedding(teacher, path):
    tokenizer, model = teacher
    ours = encode_texts(tokenizer, model, TEXTS, MEAN)
    reference = SentenceTransformer(path, device="cpu").encode(TEXTS, batch_size=3, normalize_embeddings=True)
    assert np.abs(ours - reference).max() <= 1e-5


def test_cls_pooling_is_sentence_transformers_cls_pipeline(teacher, path):
    tokenizer, model = teacher
    ours = encode_texts(tokenizer, model, TEXTS, CLS)
    transformer = Transformer(path, max_seq_length=128)
    cls = Pooling(transformer.get_embedding_dimension(), pooling_mode="cls")
    reference = SentenceTransformer(modules=[transformer, cls, Normalize()], device="cpu").encode(TEXTS, batch_size=3)
    assert np.abs(ours - reference).max() <= 1e-5
    assert np.abs(ours - encode_texts(tokenizer, model, TEXTS, MEAN)).max() > 0.05


def test_unknown_pooling_is_refused(teacher):
    with pytest.raises(ValueError, match="unknown pooling 'max'"):
        pool(torch.zeros(1, 2, 4), torch.ones(1, 2), "max")
