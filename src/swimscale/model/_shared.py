"""What the students of one training job share, per seed: computed once per (job, seed), not per student.

For one seed the samples are nested (:func:`swimscale.data.subsample`: the sample of N is the first N
records of any larger sample of the seed, in rank order), so the job's largest sample of a seed holds
every other sample of that seed as a prefix. :class:`JobShared` keeps, for the seed being trained:

- the largest sample's records (read once, before the seed's first student);
- its queries tokenised once (:class:`swimscale.model.TokenisedTexts`: a student's batch is
  :func:`swimscale.model.tokenize_for_transport`'s, value for value, looked up by id), for every
  student without a frozen prefix, on every device;
- lazily, the teacher's states of its records (``train.teacher_tokens: job``, or ``auto`` on CUDA when
  they fit ``train.teacher_host_gib``): computed once, when the seed's first such student starts, and
  held in host memory (:class:`HostTeacherCache`; tokens only when a method of the job reads them).

A student reads them only when its records are the largest sample's first records (same ids, same
dicts); otherwise it says so and takes the per-run path. The previous seed's data are freed when a new
seed starts, so a job holds one seed's at a time: :meth:`JobShared.order` trains a job's students seed
after seed (each seed's in the job's order), which changes no student (each is seeded on its own).
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterable, Mapping

import torch

from swimscale.model._encode import TokenisedTexts, scored_transport_mask
from swimscale.model._teacher import TeacherCache, TeacherEncoder, build_teacher_cache, cache_dtype, counterpart
from swimscale.model.losses import METHODS, TrainingLoss


class HostTeacherCache(TeacherCache):
    """The teacher's states of a seed's largest sample, held in host memory (tokens bf16 on CUDA, float32
    on the CPU, as :class:`swimscale.model.TeacherCache`) and read by every student of the seed.

    A batch is gathered on the host (one ``index_select`` of its token rows) into page-locked (pinned)
    memory on CUDA — pageable, with the reason printed, where pinning fails — and copied to the device
    without waiting (``non_blocking``) in the stored precision, then turned to float32 and scattered
    into the padded batch on the device: the loss reads the numbers of the per-run cache. The store
    itself stays pageable: the gather reads it on the host anyway, and the pinned allocator rounds an
    allocation up to a power of two (a 40 GiB store would take 64 GiB). Per update the host sends the
    batch's stored token rows (rows × d × 2 bytes in bf16), their int64 places in the batch (8 bytes a
    row) and the pooled float32 vectors (B × d × 4 bytes, and the passages' for a contrastive loss)."""

    def __init__(self, cache: TeacherCache, pin: bool):
        super().__init__(cache.ids, cache.tokens, cache.offsets, cache._pooled, cache.passage_pooled)
        self.pin = pin

    def _host(self, shape: tuple, dtype: torch.dtype) -> torch.Tensor:
        """An empty host tensor for a batch: pinned when pinning (the caching host allocator, which reuses
        a block once the copy that read it is done), else pageable."""
        if self.pin:
            try:
                return torch.empty(shape, dtype=dtype, pin_memory=True)
            except RuntimeError as error:
                self.pin = False
                print(f"job teacher states: a batch could not be pinned ({' '.join(str(error).split())}); "
                      "batches are copied from pageable memory")
        return torch.empty(shape, dtype=dtype)

    def _rows_on(self, host: torch.Tensor, rows: list[int], device) -> torch.Tensor:
        """Rows `rows` of a host tensor, gathered on the host and copied to `device` without waiting."""
        out = self._host((len(rows), *host.shape[1:]), host.dtype)
        torch.index_select(host, 0, torch.tensor(rows, dtype=torch.int64), out=out)
        return out.to(device, non_blocking=True)

    def batch(self, records, device):
        if self.tokens is None:
            raise ValueError("this teacher cache holds no tokens (built for methods that need none)")
        rows = self.rows(records)
        starts = self.starts
        lengths = [starts[r + 1] - starts[r] for r in rows]
        width = max(lengths)
        # Host-side index arithmetic on Python ints: which stored row fills which (pair, position).
        source = [starts[r] + k for r, n in zip(rows, lengths) for k in range(n)]
        target = torch.tensor([i * width + k for i, n in enumerate(lengths) for k in range(n)])
        states = self._rows_on(self.tokens, source, device)
        index = (self._host(target.shape, target.dtype).copy_(target) if self.pin else target).to(
            device, non_blocking=True)
        out = torch.zeros(len(rows) * width, self.tokens.shape[1], device=device)
        out[index] = states.float()
        mask = torch.zeros(len(rows) * width, device=device)
        mask[index] = 1.0
        return out.view(len(rows), width, -1), mask.view(len(rows), width), self._rows_on(self._pooled, rows, device)

    def pooled(self, records, device):
        return self._rows_on(self._pooled, self.rows(records), device)

    def passages(self, records, device):
        if self.passage_pooled is None:
            raise ValueError("this teacher cache holds no passages (built for methods that need none)")
        return self._rows_on(self.passage_pooled, self.rows(records), device)


class SeedShare:
    """The job's largest sample of one seed (`records`) and what is computed from it, each once."""

    def __init__(self, seed: int, records: list[dict], tokens: bool, passages: bool):
        self.seed, self.records, self.tokens, self.passages = seed, records, tokens, passages
        self.ids = [r["_id"] for r in records]
        self._queries: dict[tuple, TokenisedTexts] = {}
        self._rows: dict[tuple, tuple[TokenisedTexts, list[int]]] = {}
        self._teacher: tuple[tuple, HostTeacherCache] | None = None
        self.teacher_builds = 0

    def prefix_problem(self, records: list[dict]) -> str | None:
        """Why `records` are not the first records of the largest sample (None: they are)."""
        if len(records) > len(self.records):
            return (f"{len(records)} records, more than the job's largest sample of seed {self.seed} "
                    f"({len(self.records)})")
        for i, (mine, theirs) in enumerate(zip(records, self.records)):
            if mine is not theirs and mine != theirs:
                return (f"record {i} ({mine.get('_id')!r}) is not the job's largest sample's record {i} "
                        f"({theirs.get('_id')!r}) of seed {self.seed}")
        return None

    def queries(self, tokenizer, max_length: int) -> TokenisedTexts:
        """The largest sample's queries tokenised by `tokenizer` at `max_length`, once."""
        key = (getattr(tokenizer, "name_or_path", id(tokenizer)), max_length)
        if key not in self._queries:
            self._queries[key] = TokenisedTexts(tokenizer, self.ids, [r["query"] for r in self.records], max_length)
        return self._queries[key]

    def teacher_rows(self, encoder: TeacherEncoder) -> list[int]:
        """Each record's first row in the teacher's states, and the end: the rows the cache keeps (the
        transport mask of :class:`swimscale.model.TeacherEncoder`), counted by the tokenizer alone."""
        return self._counterparts(encoder)[1]

    def _counterparts(self, encoder: TeacherEncoder) -> tuple[TokenisedTexts, list[int]]:
        """The counterparts tokenised once at the teacher's ``max_length`` (the teacher's forward reads
        them too: :func:`swimscale.model.build_teacher_cache`), and :meth:`teacher_rows`."""
        settings = encoder.settings
        key = (getattr(encoder.tokenizer, "name_or_path", id(encoder.tokenizer)), settings)
        if key not in self._rows:
            texts = [counterpart(r, settings.passage_format) for r in self.records]
            tokenised, starts = TokenisedTexts(encoder.tokenizer, self.ids, texts, settings.max_length), [0]
            for first in range(0, len(self.ids), 4096):
                enc = tokenised.batch(self.ids[first : first + 4096], "cpu")
                kept = scored_transport_mask(enc["transport_mask"], enc["attention_mask"], settings.pooling).sum(1)
                for count in kept.tolist():
                    starts.append(starts[-1] + count)
            self._rows[key] = tokenised, starts
        return self._rows[key]

    def state_bytes(self, encoder: TeacherEncoder) -> int:
        """The host bytes of the seed's teacher states: the kept token rows in the cache's precision
        (when a method of the job reads tokens) and one or two float32 vectors a record."""
        hidden = encoder.model.config.hidden_size
        vectors = (1 + self.passages) * 4 * hidden * len(self.records)
        if not self.tokens:
            return vectors
        return self.teacher_rows(encoder)[-1] * hidden * cache_dtype(encoder).itemsize + vectors

    def teacher(self, encoder: TeacherEncoder, device) -> HostTeacherCache:
        """The teacher's states of the largest sample, computed at the first call (written into one host
        tensor allocated beforehand: no second copy while they are joined)."""
        key = (encoder.settings, cache_dtype(encoder))
        if self._teacher is None or self._teacher[0] != key:
            self._teacher = None
            into = None
            tokenised, rows = self._counterparts(encoder)
            if self.tokens:
                into = (torch.empty(rows[-1], encoder.model.config.hidden_size, dtype=key[1]), rows)
            print(f"job teacher states of seed {self.seed}: {len(self.records)} records, "
                  f"{self.state_bytes(encoder) / 2**30:.2f} GiB in host memory, computed once for its students")
            cache = build_teacher_cache(encoder, self.records, tokens=self.tokens, passages=self.passages, into=into,
                                        tokenised=tokenised)
            self.teacher_builds += 1
            self._teacher = (key, HostTeacherCache(cache, pin=torch.device(device).type == "cuda"))
        return self._teacher[1]


class JobShared:
    """A training job's shared data (module docstring), one seed's at a time. `samples`: per seed, the
    job's largest sample of that seed (its records, or a function that reads them: called when the
    seed's first student starts); `methods`: the job's methods (the teacher's tokens are kept when one
    of them reads tokens, the passages' pooled vectors when one reads passages)."""

    def __init__(self, samples: Mapping[int, list[dict] | Callable[[], list[dict]]], methods: Iterable[str]):
        methods = list(methods)
        unknown = [m for m in methods if m not in METHODS]
        if unknown:
            raise ValueError(f"unknown methods {unknown}; known: {', '.join(METHODS)}")
        self.samples = dict(samples)
        self.tokens = any(METHODS[m].needs_tokens for m in methods)
        self.passages = any(METHODS[m].needs_passages for m in methods)
        self.current: SeedShare | None = None
        self.seeds_started = 0

    @classmethod
    def of_students(cls, students: list[dict], read: Callable[[dict], list[dict]], methods: Iterable[str]) -> JobShared:
        """From a job's students ({seed, size, ...}: workflow/scripts/train.py): per seed, the largest
        student's sample, read by `read(student)` when the seed starts."""
        largest: dict[int, dict] = {}
        for student in students:
            if student["seed"] not in largest or student["size"] > largest[student["seed"]]["size"]:
                largest[student["seed"]] = student
        return cls({seed: (lambda s=student: read(s)) for seed, student in largest.items()}, methods)

    @staticmethod
    def order(students: list[dict]) -> list[dict]:
        """The students seed after seed (the seeds in the order they first come, each seed's students in
        the job's order), so that one seed's data are held at a time."""
        first: dict[int, int] = {}
        for i, student in enumerate(students):
            first.setdefault(student["seed"], i)
        return sorted(students, key=lambda student: first[student["seed"]])

    def seed(self, seed: int) -> SeedShare:
        """The seed's shared data; the previous seed's are freed first (its largest sample read now)."""
        if self.current is None or self.current.seed != seed:
            self.current = None
            gc.collect()  # the previous seed's states go before the next seed's are made
            sample = self.samples[seed]
            self.current = SeedShare(seed, sample() if callable(sample) else list(sample), self.tokens, self.passages)
            self.seeds_started += 1
        return self.current

    def share(self, seed: int, records: list[dict], loss: TrainingLoss) -> tuple[SeedShare | None, str | None]:
        """(the seed's shared data, None) for a run of `loss` on `records`, or (None, why not)."""
        if seed not in self.samples:
            return None, f"seed {seed} is not one of the job's seeds ({sorted(self.samples)})"
        if (loss.needs_tokens and not self.tokens) or (loss.needs_passages and not self.passages):
            return None, f"method '{loss.name}' reads what the job's methods did not ask to keep"
        share = self.seed(seed)
        problem = share.prefix_problem(records)
        return (None, problem) if problem else (share, None)


def run_share(shared: JobShared | None, seed: int, records: list[dict], loss: TrainingLoss,
              teacher_tokens: str) -> tuple[SeedShare | None, str | None]:
    """What a run reads of its job's shared data: (the seed's, None), or (None, why not: printed), or
    (None, None) without a job's (`shared` None), unless it asks for ``teacher_tokens: job``, which then
    makes a job of this run alone."""
    if shared is None:
        if teacher_tokens != "job":
            return None, None
        shared = JobShared({seed: records}, [loss.name])
    share, problem = shared.share(seed, records, loss)
    if problem is not None:
        print(f"seed {seed}, {len(records)} records: the job's shared data are not used ({problem}); "
              "this run tokenises its queries and gets its teacher states on its own")
    return share, problem
