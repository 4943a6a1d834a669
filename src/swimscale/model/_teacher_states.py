"""The teacher's states of a language's validated pool, computed once per (language, teacher) and read
by every size, seed and method of that language (``train.teacher_tokens: language``).

The file (one ``.safetensors``, written by the ``teacher_states`` rule; its sidecar beside it, as for
every derived file: SHA-256, size and count) holds, for the P records of the pool **in pool order**:

- ``tokens`` (T, d): the token states the transport reads (:func:`swimscale.model.scored_transport_mask`:
  the content tokens and the tokens the pooling reads; no padding, no other special token), every
  record's after the previous one's, in the precision of the teacher's forward — bf16 under the CUDA
  autocast, float32 on the CPU (so that a CPU cache gives the per-run cache's numbers);
- ``offsets`` (P + 1,) int64: record i's tokens are rows ``offsets[i]:offsets[i+1]``;
- ``pooled`` (P, d) float32: the counterparts' pooled embeddings (the teacher's pooling);
- ``passage_pooled`` (P, d) float32, only when a record's passage is not its counterpart (translation
  pools): the passages' pooled embeddings (the contrastive arm's);
- ``ids`` (bytes,) uint8: the records' ``_id`` joined by newlines (UTF-8): a training record is found
  by its id's place in the pool (samples carry the pool records as they are, ``_id`` included);
- metadata: ``format`` (:data:`FORMAT`), ``count`` (P: the sidecar's count), ``tokens`` (T), the
  teacher settings it was encoded with (``model``, ``max_length``, ``pooling``, ``passage_format``)
  and ``dtype``.

Size: T·d·2 bytes in bf16 (mDPR, ~133 tokens per SWIM-IR passage: ~0.2 MB a pair, ~1.2 GB for an
Indic pool of 5.8k pairs) plus 2 or 3 float32 vectors per pair. The reader refuses a file whose
sidecar, structure or teacher settings disagree, naming the file and the rebuild command; a job holds
on its device only the rows of its own records (:meth:`TeacherStates.load` with `ids`).
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import save_file

from swimscale.config import TeacherSettings, TrainSettings
from swimscale.errors import InputError
from swimscale.formats import PARTIAL_SUFFIX, check_sidecar, rebuild_command
from swimscale.model._teacher import (
    TeacherCache,
    TeacherEncoder,
    TeacherOnTheFly,
    TeacherView,
    build_teacher_cache,
    counterpart,
    resolve_teacher_tokens,
)
from swimscale.model.losses import TrainingLoss

FORMAT = "swimscale-teacher-states/1"
SETTINGS_KEYS = ("model", "max_length", "pooling", "passage_format")


class TeacherStatesError(InputError):
    """A teacher-states file that cannot be used: the message names the file and how to rebuild it."""


def write_teacher_states(path: Path, teacher: TeacherEncoder, records: list[dict]) -> dict:
    """Encodes every record of the pool once (:func:`swimscale.model.build_teacher_cache`: tokens and
    passages) and writes the file (module docstring), atomically; returns its metadata."""
    cache = build_teacher_cache(teacher, records, tokens=True, passages=True)
    tensors = {"tokens": cache.tokens.contiguous(), "offsets": cache.offsets.to(torch.int64),
               "pooled": cache._pooled.float().contiguous(),
               "ids": torch.frombuffer(bytearray("\n".join(cache.ids).encode("utf-8")), dtype=torch.uint8)}
    if not torch.equal(cache.passage_pooled, cache._pooled):
        tensors["passage_pooled"] = cache.passage_pooled.float().contiguous()
    settings = teacher.settings
    metadata = {"format": FORMAT, "count": str(len(records)), "tokens": str(cache.tokens.shape[0]),
                "dtype": str(cache.tokens.dtype).removeprefix("torch."),
                **{key: json.dumps(getattr(settings, key)) for key in SETTINGS_KEYS}}
    partial = path.with_name(path.name + PARTIAL_SUFFIX)
    path.parent.mkdir(parents=True, exist_ok=True)
    save_file(tensors, str(partial), metadata=metadata)
    partial.replace(path)
    return metadata


def _refuse(path: Path, what: str) -> TeacherStatesError:
    return TeacherStatesError(f"{path}: {what}; rebuild it: {rebuild_command(path)}")


def _check_metadata(path: Path, metadata: dict, teacher: TeacherSettings, keys: set[str]) -> None:
    if metadata.get("format") != FORMAT:
        raise _refuse(path, f"not a teacher-states file of format {FORMAT} (found {metadata.get('format')!r})")
    for key in SETTINGS_KEYS:
        if metadata.get(key) != json.dumps(getattr(teacher, key)):
            raise _refuse(path, f"encoded with teacher.{key} {metadata.get(key)}, this run's is "
                                f"{json.dumps(getattr(teacher, key))}")
    if not {"tokens", "offsets", "pooled", "ids"} <= keys:
        raise _refuse(path, f"holds {sorted(keys)}, not tokens, offsets, pooled and ids")


class TeacherStates(TeacherCache):
    """The teacher's view of a set of records read from a teacher-states file and held on the device:
    tokens in the file's precision (bf16 on CUDA: half the memory), handed to the loss as float32 like
    the per-run cache (:class:`swimscale.model.TeacherCache`). A batch is gathered on the device with
    one index copied from the host (no read of the device): an update reads nothing more than with the
    per-run cache, and the teacher never runs. The records' rows and pooled vectors are the cache's."""

    def __init__(self, ids: list[str], tokens: torch.Tensor, starts: list[int], pooled: torch.Tensor,
                 passage_pooled: torch.Tensor | None):
        super().__init__(ids, tokens, None, pooled, passage_pooled)
        self.starts = starts  # Python ints, as the cache's

    @classmethod
    def load(cls, path: Path, teacher: TeacherSettings, device, ids: list[str] | None = None) -> TeacherStates:
        """The file's states of the records `ids` (None: every record of the pool) on `device`, after
        checking the file against its sidecar (:func:`swimscale.formats.check_sidecar`: size and count,
        and the SHA-256 under its limit; a workflow job has checked it with the config's `verify`
        already), its structure and the teacher settings it was encoded with."""
        path = Path(path)
        check_sidecar(path, "auto")
        try:
            with safe_open(str(path), framework="pt") as handle:
                metadata, keys = handle.metadata() or {}, set(handle.keys())
                _check_metadata(path, metadata, teacher, keys)
                return cls._read(path, handle, keys, ids, device)
        except TeacherStatesError:
            raise
        except (OSError, ValueError, RuntimeError, SafetensorError) as error:  # safetensors' refusal of a damaged file
            raise _refuse(path, f"unreadable ({' '.join(str(error).split())})") from None

    @classmethod
    def _read(cls, path: Path, handle, keys: set[str], ids: list[str] | None, device) -> TeacherStates:
        pool_ids = bytes(handle.get_tensor("ids").numpy()).decode("utf-8").split("\n")
        offsets = handle.get_tensor("offsets").tolist()
        count, tokens = len(pool_ids), handle.get_slice("tokens")
        if len(offsets) != count + 1 or offsets[-1] != tokens.get_shape()[0] or offsets[0] != 0:
            raise _refuse(path, f"{count} ids, {len(offsets)} offsets ending at {offsets[-1]} for "
                                f"{tokens.get_shape()[0]} token rows")
        place = {record_id: i for i, record_id in enumerate(pool_ids)}
        missing = [i for i in ids or () if i not in place]
        if missing:
            raise _refuse(path, f"{len(missing)} training records are not in its pool (first: {missing[0]!r})")
        rows = list(range(count)) if ids is None else [place[i] for i in ids]
        parts = [tokens[offsets[r]:offsets[r + 1]] for r in rows]
        starts = [0]
        for part in parts:
            starts.append(starts[-1] + part.shape[0])
        pooled = handle.get_tensor("pooled")[rows]
        passages = handle.get_tensor("passage_pooled")[rows] if "passage_pooled" in keys else None
        return cls([pool_ids[r] for r in rows], torch.cat(parts).to(device), starts, pooled.to(device),
                   passages.to(device) if passages is not None else None)

    def batch(self, records, device):
        rows = self.rows(records)
        lengths = [self.starts[r + 1] - self.starts[r] for r in rows]
        width = max(lengths)
        # Host-side index arithmetic on Python ints: which stored row fills which (pair, position).
        source = [self.starts[r] + k for r, n in zip(rows, lengths) for k in range(n)]
        target = [i * width + k for i, n in enumerate(lengths) for k in range(n)]
        index = torch.tensor([source, target]).to(self.tokens.device, non_blocking=True)
        out = torch.zeros(len(rows) * width, self.tokens.shape[1], device=self.tokens.device)
        out[index[1]] = self.tokens[index[0]].float()
        mask = torch.zeros(len(rows) * width, device=self.tokens.device)
        mask[index[1]] = 1.0
        view = torch.tensor(rows).to(self.tokens.device, non_blocking=True)
        return (out.view(len(rows), width, -1).to(device), mask.view(len(rows), width).to(device),
                self._pooled[view].to(device))

    def passages(self, records, device):
        stored = self.passage_pooled if self.passage_pooled is not None else self._pooled
        return stored[torch.tensor(self.rows(records)).to(stored.device)].to(device)

def run_states_bytes(tokenizer, records: list[dict], teacher: TeacherSettings, hidden: int, tokens: bool) -> int:
    """The bytes a run's own precomputed states would take: two float32 vectors a record, and, when its
    loss reads `tokens`, its counterparts' tokens in bf16 (counted by the tokenizer alone, at most
    ``teacher.max_length`` each)."""
    if not tokens:
        return 8 * hidden * len(records)
    texts = [counterpart(r, teacher.passage_format) for r in records]
    ids = tokenizer(texts, truncation=True, max_length=teacher.max_length)["input_ids"]
    return sum(len(i) for i in ids) * hidden * 2 + 8 * hidden * len(records)


def teacher_view(encoder: TeacherEncoder, records: list[dict], cfg: TrainSettings, loss: TrainingLoss, device,
                 states: Path | None, share=None) -> tuple[str, TeacherView]:
    """(``train.teacher_tokens`` as resolved here, the run's view of the teacher): the language's
    states file when given and within ``train.teacher_cache_gib`` (or asked for by name), else the
    job's states of the run's seed when within ``train.teacher_host_gib`` (`share`: the seed's shared
    data, :class:`swimscale.model.JobShared`; or asked for by name), else the run's own states computed
    once before its first update, else the teacher on the fly
    (:func:`swimscale.model.resolve_teacher_tokens`). ``job`` asked for without `share` (the run's
    records are not the job's largest sample's first ones: said where it was decided) takes the per-run
    path, as ``auto`` would without a job."""
    limit, device = cfg.teacher_cache_gib * 2**30, torch.device(device)
    language = states is not None and Path(states).stat().st_size <= limit
    asked = "auto" if cfg.teacher_tokens == "job" and share is None else cfg.teacher_tokens
    per_run = asked == "auto" and device.type == "cuda" and not language
    job_fits = per_run and share is not None and share.state_bytes(encoder) <= cfg.teacher_host_gib * 2**30
    run_fits = (per_run and not job_fits
                and run_states_bytes(encoder.tokenizer, records, encoder.settings,
                                     encoder.model.config.hidden_size, loss.needs_tokens) <= limit)
    mode = resolve_teacher_tokens(asked, device, language, run_fits, job_fits)
    if mode == "language":
        if states is None:
            raise ValueError("train.teacher_tokens 'language' reads the language's teacher states (the "
                             "teacher_states rule's file), and this run was given none")
        return mode, TeacherStates.load(Path(states), encoder.settings, device, [r["_id"] for r in records])
    if mode == "job":
        return mode, share.teacher(encoder, device)
    if mode == "precompute":
        return mode, build_teacher_cache(encoder, records, tokens=loss.needs_tokens, passages=loss.needs_passages)
    return mode, TeacherOnTheFly(encoder)
