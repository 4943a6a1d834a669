"""Training only the word-embedding rows a run can reach (``train.embedding_rows: sample``), exactly.

A student that trains its embeddings reads, during training, only the word pieces of its training
queries (and, at dev evaluations, of its dev queries, without gradients). Every other row r of the word
matrix has a zero gradient at every update, so AdamW (decoupled weight decay, Loshchilov & Hutter)
keeps its moments at zero, m_t = β1·m_{t−1} + (1 − β1)·0 = 0 and v_t = 0, and its step
lr_t · m̂_t / (√v̂_t + ε) is 0: the update is the decay alone, p ← p·(1 − lr_t·wd). After T updates

    p_T[r] = p_0[r] · Π_{t ≤ T} (1 − lr_t·wd)

whatever the other rows do. So :class:`SampledRows` holds as a trainable parameter only the rows R
(the training queries' word pieces at the run's ``max_length``, and the special tokens), and serves
every other row as the frozen initial row times one running factor ``decay``, multiplied by
(1 − lr_t·wd) after each update (:meth:`SampledRows.decayed`, on the device). Per element AdamW is the
same computation; what differs is float rounding only: the product Π is taken once instead of row by
row, and the gradient clip's norm sums fewer zeros (tests/model/test_embedding_rows.py trains both
ways and compares every parameter). The optimiser's state and traffic shrink from V × d to |R| × d
(mBERT: 119,547 × 768, half its parameters, against the few thousand word pieces of a sample).

nn.Embedding's ``padding_idx`` row gets no gradient either (the embedding's backward skips it), so it
is left out of R: it only decays, as under ``all``. At the end :meth:`SampledRows.merged` writes the
whole matrix back (R's trained rows, the others p_0·decay), so the saved student is a plain model.
"""

from __future__ import annotations

from itertools import chain

import torch


class SampledRows(torch.nn.Module):
    """A word-embedding layer whose rows `ids` (sorted, R) train and whose other rows only decay.

    `rows` (|R| × d, the trainable parameter) starts as the rows R of `weight` (V × d, the initial
    matrix, kept as the frozen buffer `full` without a copy); `index` maps a token id to its position
    in R, or −1; `decay` (0-d, float32) is Π_t (1 − lr_t·wd) so far, part of what a checkpoint and the
    kept best student hold."""

    def __init__(self, weight: torch.Tensor, ids: list[int]):
        super().__init__()
        full = weight.detach()
        ids_tensor = torch.tensor(ids, dtype=torch.long, device=full.device)
        self.rows = torch.nn.Parameter(full[ids_tensor].clone())
        index = torch.full((full.shape[0],), -1, dtype=torch.long, device=full.device)
        index[ids_tensor] = torch.arange(len(ids), device=full.device)
        self.register_buffer("full", full, persistent=False)
        self.register_buffer("ids", ids_tensor, persistent=False)
        self.register_buffer("index", index, persistent=False)
        self.register_buffer("decay", torch.ones((), dtype=torch.float32, device=full.device))

    def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
        """Row R's trained vector where the token is in R, else its initial row times `decay`: two
        gathers and a select, no read of the device (no data-dependent shape)."""
        position = self.index[input_ids]
        trained = torch.nn.functional.embedding(position.clamp_min(0), self.rows)
        untouched = torch.nn.functional.embedding(input_ids, self.full) * self.decay
        return torch.where((position >= 0).unsqueeze(-1), trained, untouched)

    @torch.no_grad()
    def decayed(self, lr: float, weight_decay: float) -> None:
        """After an AdamW update with learning rate `lr`: the untouched rows' decay (1 − lr·wd)."""
        self.decay.mul_(1.0 - lr * weight_decay)

    @torch.no_grad()
    def merged(self) -> torch.Tensor:
        """The whole V × d matrix as ``all`` would hold it: rows R trained, the others p_0 · decay."""
        weight = self.full * self.decay
        weight[self.ids] = self.rows.detach()
        return weight


def sample_ids(tokenizer, texts: list[str], max_length: int, padding_idx: int | None,
               tokenised: list[int] | None = None) -> list[int]:
    """R, sorted: the ids of every word piece of `texts` tokenised as the student reads them (truncated
    at `max_length`, as :func:`swimscale.model._encode.tokenize_for_transport` does) and the tokenizer's
    special tokens, less `padding_idx` (nn.Embedding never gives it a gradient). `tokenised`: those
    word pieces' ids already known (the job's tokenised queries of the seed: their first N texts,
    :meth:`swimscale.model._encode.TokenisedTexts.first_token_ids`), so the texts are not tokenised again."""
    ids = set(tokenizer.all_special_ids)
    if tokenised is not None:
        ids.update(tokenised)
    else:
        for start in range(0, len(texts), 1024):
            encoded = tokenizer(texts[start : start + 1024], truncation=True, max_length=max_length)["input_ids"]
            ids.update(chain.from_iterable(encoded))
    ids.discard(padding_idx)
    return sorted(ids)
