"""The frozen teacher's view of the training records, computed once per pool and read by every run.

Each record's English *counterpart* is what the student's query tokens are transported onto: its
translation (``query_en``) when the record has one, else the SWIM-IR passage (``text``). A pool is
one kind or the other (:func:`transport_kind`).
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file
from tqdm import tqdm

from swimscale.model import _encode as encode


def counterpart(record: dict) -> str:
    """The English text the query's tokens are transported onto: its translation when the record
    has one, else the SWIM-IR passage."""
    return record.get("query_en") or record["text"]


def transport_kind(records: list[dict]) -> str:
    """'balanced' for translation pairs, 'semi_relaxed' for query–passage pairs; mixed pools are
    refused, since one batch must be one kind of problem."""
    with_translation = sum(1 for r in records if r.get("query_en"))
    if with_translation == len(records):
        return "balanced"
    if with_translation == 0:
        return "semi_relaxed"
    raise ValueError(
        f"{with_translation} of {len(records)} records have 'query_en': a pool must give a translation "
        "for every query (balanced OT) or for none (semi-relaxed OT against the passage)"
    )


class TeacherCache:
    """The frozen teacher's view of each record, keyed by record id:
    token embeddings of the counterpart (special tokens removed), its pooled sentence embedding (the
    teacher's pooling), and the pooled embedding of the passage (`text`, for the contrastive method).

    Tokens are stored ragged — all tokens concatenated plus offsets — in float16, which halves the
    file; the cosine cost computed from it differs from float32 by ~1e-3, far below ε.
    """

    def __init__(self, ids, tokens, offsets, pooled, passage_pooled):
        self.index = {record_id: i for i, record_id in enumerate(ids)}
        self.ids, self.tokens, self.offsets = ids, tokens, offsets
        self.pooled, self.passage_pooled = pooled, passage_pooled

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tensors = {"tokens": self.tokens, "offsets": self.offsets, "pooled": self.pooled,
                   "passage_pooled": self.passage_pooled}
        save_file(tensors, str(path), metadata={"ids": json.dumps(self.ids)})

    @classmethod
    def load(cls, path: Path) -> TeacherCache:
        from safetensors import safe_open

        with safe_open(str(path), framework="pt") as handle:
            ids = json.loads(handle.metadata()["ids"])
        t = load_file(str(path))
        return cls(ids, t["tokens"], t["offsets"], t["pooled"], t["passage_pooled"])

    def rows(self, ids: list[str]) -> list[int]:
        try:
            return [self.index[record_id] for record_id in ids]
        except KeyError as err:
            raise KeyError(f"record {err} is not in the teacher cache; rebuild it") from None

    def batch(self, ids: list[str], dev) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(tokens (B, m, d) float32 zero-padded, mask (B, m), pooled (B, d))."""
        rows = self.rows(ids)
        lengths = [int(self.offsets[r + 1] - self.offsets[r]) for r in rows]
        out = torch.zeros(len(rows), max(lengths), self.tokens.shape[1])
        mask = torch.zeros(len(rows), max(lengths))
        for i, (r, n) in enumerate(zip(rows, lengths)):
            out[i, :n] = self.tokens[self.offsets[r] : self.offsets[r + 1]].float()
            mask[i, :n] = 1
        return out.to(dev), mask.to(dev), self.pooled[rows].float().to(dev)

    def passages(self, ids: list[str], dev) -> torch.Tensor:
        return self.passage_pooled[self.rows(ids)].float().to(dev)


@torch.no_grad()
def build_teacher_cache(
    tokenizer, model, records: list[dict], max_length: int, batch_size: int, pooling: str = "mean"
) -> TeacherCache:
    """Encodes each record's English counterpart (and passage, when different) once with the teacher."""
    dev = next(model.parameters()).device
    texts = [counterpart(r) for r in records]
    per_record: list[torch.Tensor | None] = [None] * len(records)
    pooled = torch.zeros(len(records), model.config.hidden_size)
    progress = tqdm(total=len(texts), desc="teacher tokens", unit="text", mininterval=5, disable=None)
    for index in encode.batches_by_length(texts, batch_size):
        enc = encode.tokenize_for_transport(tokenizer, [texts[i] for i in index], max_length, dev)
        hidden = model(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"]).last_hidden_state
        pooled[index] = encode.pool(hidden, enc["attention_mask"], pooling).float().cpu()
        for row, i in enumerate(index):
            keep = enc["transport_mask"][row].bool()
            if not keep.any():
                raise ValueError(f"record '{records[i]['_id']}': English text has no tokens")
            per_record[i] = hidden[row][keep].to(torch.float16).cpu()
        progress.update(len(index))
    progress.close()
    passage_pooled = pooled.clone()
    differ = [i for i, r in enumerate(records) if r["text"] != texts[i]]
    if differ:  # translation pairs whose passage is another text: pool the passages too
        passage_pooled[differ] = torch.from_numpy(
            encode.encode_texts(tokenizer, model, [records[i]["text"] for i in differ], batch_size, max_length,
                                desc="teacher passages", pooling=pooling)
        )
    lengths = torch.tensor([0] + [t.shape[0] for t in per_record])
    return TeacherCache([r["_id"] for r in records], torch.cat(per_record), torch.cumsum(lengths, 0), pooled,
                        passage_pooled)
