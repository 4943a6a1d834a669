import numpy as np
import pytest

from swimscale.retrieval import build_flat_ip, load_index, save_index, search


def normalised(rng, n, d):
    x = rng.standard_normal((n, d)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def raw(rng, n, d):
    """Raw vectors whose norms vary widely, as a DPR-style encoder's [CLS] vectors do."""
    return (rng.standard_normal((n, d)) * rng.uniform(0.2, 5.0, (n, 1))).astype(np.float32)


@pytest.mark.parametrize("normalize", [True, False], ids=["cosine", "raw inner product"])
def test_exact_search_matches_numpy(tmp_path, normalize):
    """Scores are the inner products of the vectors as given: cosines when normalised, raw dot
    products otherwise (where a long vector can outrank a closer one)."""
    rng = np.random.default_rng(0)
    vectors = normalised if normalize else raw
    corpus, queries = vectors(rng, 500, 32), vectors(rng, 20, 32)
    docids = [f"d{i}" for i in range(500)]
    save_index(build_flat_ip(corpus, normalize=normalize), tmp_path / "i.faiss")
    results = search(load_index(tmp_path / "i.faiss"), queries, [f"q{i}" for i in range(20)], docids, k=50)
    scores = queries @ corpus.T
    for i in range(20):
        expected = np.argsort(-scores[i])[:50]
        assert [d for d, _ in results[f"q{i}"]] == [docids[j] for j in expected]
        assert np.allclose([s for _, s in results[f"q{i}"]], scores[i, expected], rtol=1e-5, atol=1e-5)


def test_k_larger_than_corpus_and_bad_input():
    rng = np.random.default_rng(1)
    index = build_flat_ip(normalised(rng, 5, 8), normalize=True)
    assert len(search(index, normalised(rng, 1, 8), ["q"], list("abcde"), k=100)["q"]) == 5
    with pytest.raises(ValueError, match="L2-normalised"):
        build_flat_ip(np.ones((3, 8), dtype=np.float32), normalize=True)
    with pytest.raises(ValueError, match="4 docids"):
        search(index, normalised(rng, 1, 8), ["q"], list("abcd"), k=3)


def test_queries_and_corpus_must_be_in_the_same_space():
    rng = np.random.default_rng(3)
    docids = [f"d{i}" for i in range(50)]
    with pytest.raises(ValueError, match="queries are raw .* holds L2-normalised"):
        search(build_flat_ip(normalised(rng, 50, 8), normalize=True), raw(rng, 2, 8), ["a", "b"], docids, k=5)
    with pytest.raises(ValueError, match="queries are L2-normalised .* holds raw"):
        search(build_flat_ip(raw(rng, 50, 8), normalize=False), normalised(rng, 2, 8), ["a", "b"], docids, k=5)
    with pytest.raises(ValueError, match="NaN or infinite"):
        build_flat_ip(np.full((2, 8), np.nan, dtype=np.float32), normalize=False)
