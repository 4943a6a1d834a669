"""Synthetic SWIM-IR-like text and random BERT encoders for the perf scripts (no internet, no data).

Text lengths follow SWIM-IR: English passages of ~95 words (Wikipedia chunks, title apart), queries
of ~10 words. Words are drawn from the whole-word entries of a WordPiece vocabulary (the bundled
MiniLM tokenizer's), so the tokens per word are those of real English text (~1.3), not of random
strings. Lengths vary around the mean (±30 %), as real ones do, so that length-sorted batching and
padding behave as on real data.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

PASSAGE_WORDS = 95
QUERY_WORDS = 10
TITLE_WORDS = 3

# mDPR (castorini/mdpr-tied-pft-msmarco): multilingual BERT base, cased, 119,547 word pieces.
MDPR_SHAPE = dict(vocab_size=119547, hidden_size=768, num_hidden_layers=12, num_attention_heads=12,
                  intermediate_size=3072, max_position_embeddings=512)
# A tiny BERT where the model does not matter (memory and disk of the data stages, code paths).
TINY_SHAPE = dict(vocab_size=30522, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                  intermediate_size=64, max_position_embeddings=512)


def vocabulary(tokenizer) -> list[str]:
    """Whole alphabetic words of a WordPiece vocabulary, in id order."""
    vocab = sorted(tokenizer.get_vocab().items(), key=lambda item: item[1])
    return [word for word, _ in vocab if word.isalpha() and word.isascii() and len(word) > 1]


def vocabulary_file(path: Path) -> list[str]:
    """The same from a vocab.txt, without loading transformers."""
    words = Path(path).read_text(encoding="utf-8").split("\n")
    return [word for word in words if word.isalpha() and word.isascii() and len(word) > 1]


class TextMaker:
    """Seeded random text of a given mean length in words."""

    def __init__(self, words: list[str], seed: int = 0):
        self.words, self.random = words, random.Random(seed)

    def text(self, mean_words: int) -> str:
        n = max(1, round(mean_words * self.random.uniform(0.7, 1.3)))
        return " ".join(self.random.choices(self.words, k=n)).capitalize() + "."

    def passage(self) -> str:
        return self.text(PASSAGE_WORDS)

    def query(self) -> str:
        return self.text(QUERY_WORDS)

    def title(self) -> str:
        return self.text(TITLE_WORDS).rstrip(".").title()


def pool_records(maker: TextMaker, n: int, code: str = "xx") -> list[dict]:
    """`n` records in SWIM-IR's cross-lingual schema (`_id, lang, code, query, title, text`)."""
    return [{"_id": f"{code}-{i}", "lang": "Synthetic", "code": code, "query": maker.query(),
             "title": maker.title(), "text": maker.passage()} for i in range(n)]


def write_jsonl(path: Path, rows) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")


def random_bert(directory: Path, shape: dict, tokenizer, seed: int = 0) -> Path:
    """A randomly initialised BertModel of `shape`, saved (safetensors) with `tokenizer` into
    `directory`, loadable by ``swimscale.model.load_encoder(directory)``."""
    import torch
    from transformers import BertConfig, BertModel

    torch.manual_seed(seed)
    model = BertModel(BertConfig(**shape))
    directory.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(directory, safe_serialization=True)
    tokenizer.save_pretrained(directory)
    return directory
