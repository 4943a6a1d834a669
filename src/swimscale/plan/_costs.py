"""The full study's cost, planned from its config before launch: machine-independent counts (runs,
updates, FLOPs, bytes, host synchronisations) turned into time by one row of the device table.

The model (every figure is a count or a documented assumption; nothing here is measured on a GPU):

- an update of batch B costs 3 forwards of the student on B queries of ``QUERY_TOKENS`` (forward and
  backward) plus, when the teacher runs on the fly, one teacher forward on B counterparts of
  ``COUNTERPART_TOKENS``; a BERT forward is 2 FLOPs per non-embedding parameter per token plus
  4·layers·L²·h for attention (as perf/footprint_model.py); fused AdamW moves 28 bytes per trained
  parameter (reads parameter, gradient and two moments, writes three; :func:`trained_parameters`:
  ``freeze_embeddings`` and ``trainable_layers`` leave parameters out, ``embedding_rows: sample`` trains
  only the word-piece rows of the training queries, :func:`embedding_rows`);
- ``teacher_tokens`` (swimscale.model.resolve_teacher_tokens), per run: ``language`` reads the
  language's teacher states, computed once per language (pool pairs × one teacher forward: the
  ``teacher_states`` rule); ``job`` computes the states of the largest sample of each seed of a
  training job once (its smaller samples are its prefixes: nested), held in the job's host memory,
  each update copying its batch's rows to the device (bf16 tokens, float32 pooled vectors, at
  ``HOST_COPY_BPS``, not overlapped); ``precompute`` costs N teacher forwards once per run;
  ``on_the_fly`` one forward of the batch per update. ``auto`` precomputes on the CPU; on a GPU it
  reads the language's states where :func:`language_states` says so, else ``job`` where the job's
  states of a seed (:func:`state_bytes` of its largest sample) fit ``train.teacher_host_gib``, else precomputes where the
  run's states (:func:`run_state_bytes`: tokens only for the arms that read them) fit
  ``train.teacher_cache_gib``, else runs the teacher on the fly. Every teacher forward first tokenises
  its English counterparts on the job's CPU while the GPU waits (``COUNTERPART_S``, measured);
- ``students_per_job`` (:func:`job_key`): a job trains one student, every seed of one (language,
  method, N), every N and seed of one (language, method), or every method, N and seed of a language. A job pays the device row's start-up
  (``overhead_s``) once, plus, when ``train.compile`` compiles (``auto``: on a GPU), one compile
  (``COMPILE_S``, assumed); each student then costs its re-initialisation (the teacher's weights copied
  back from host memory at ``HOST_COPY_BPS``, assumed), reading its sample (``READ_S_PER_RECORD``) and
  its states' rows read at ``HOST_COPY_BPS``; a job tokenises the queries of each seed's largest sample
  once (``QUERY_S_PER_RECORD``), shared by that seed's students (swimscale.model.JobShared). The
  per-record times are measured on one CPU core by perf/job_overhead.py;
- the converged budget's length is unknown in advance. Evaluations come every ``eval_every_passes``
  passes over the N pairs (else every ``eval_every`` updates), as swimscale.model.Selection makes
  them. Bounds: the earliest stop (patience evaluations after an untrained best, not before the floor
  ``min_steps``/``min_passes``) and the cap (max_steps). Expected: the dev best is assumed reached
  after ``EXPECTED_PASSES`` pass(es) over the N pairs (rounded up to an evaluation), then patience
  evaluations more — an assumption to replace by the first runs' dev curves;
- a dev evaluation encodes the dev queries and searches the dev collection on the device (matmul and
  top-k: 2·d FLOPs per query–passage pair);
- each train job holds its GPU through its start-up.
"""

from __future__ import annotations

import math
from fractions import Fraction
from collections.abc import Callable
from dataclasses import dataclass

# mDPR (castorini/mdpr-tied-pft-msmarco): multilingual BERT-base.
MDPR = {"vocab_size": 119547, "hidden_size": 768, "num_hidden_layers": 12, "intermediate_size": 3072,
        "max_position_embeddings": 512}
QUERY_TOKENS = 20  # mBERT word pieces of a ~10-word query in a low-resource script (~2 per word)
COUNTERPART_TOKENS = 133  # mBERT word pieces of a ~95-word English passage with its title (~1.4 per word)
INDIC_POOL = 5_800  # the Indic SWIM-IR sets: ~5.6k–6.0k pairs (SWIM-IR paper, Table 7): a capped size's N
SWIMIR_POOL = 900_000  # a SWIM-IR cross-lingual language's pool: ~900k pairs (an uncapped language's pool)
COLLECTION_PASSAGES = 112_426  # XTREME-UP's passage index (SWIM-IR paper): a collection without corpus_size
DEV_QUERIES, TEST_QUERIES = 500, 1000
TOKEN_METHODS = ("optical", "optical_pooled")  # the arms whose loss reads the teacher's token states
EXPECTED_PASSES = 1.0  # assumed: passes over the N pairs until the dev best
ADAMW_BYTES = 28  # fused AdamW, fp32: read p, g, m, v; write p, m, v
CUDA_CONTEXT_BYTES = 1.0 * 2**30  # assumed: CUDA context, cuBLAS workspace and allocator slack
COMPILE_S = 60.0  # assumed: torch.compile of mBERT's forward and backward, once per job (gpu_check measures it)
HOST_COPY_BPS = 10e9  # assumed: host-to-device copies from pageable memory, bytes/s (PCIe 4/5 sustain more)
# Measured on this project's 2-core machine, on one core, by `perf/job_overhead.py --per-record`
# (2026-12-07, on real text: Chichewa verses cut to 10 words as queries, a title and 95 English words as
# counterparts; MiniLM's WordPiece, the fast tokenizer): reading a pool record (JSON) 2.1 µs, tokenising
# its query 68 µs, its counterpart 94 µs; rounded up here.
READ_S_PER_RECORD = 3e-6
QUERY_S_PER_RECORD = 7e-5
COUNTERPART_S = 1e-4
# Assumed: the share of mBERT's 119,547 word pieces that one language's training queries use, at most
# (one language's script and the shared pieces: mBERT's vocabulary serves 104 languages). Measured by
# the same script on the Bible through MiniLM's 30,522-piece WordPiece: 30,000 English verses use 7,889
# pieces (26 %), 30,000 Chichewa verses 2,649 (9 %). The training log's ``trained_embedding_rows`` gives
# the real count of the first runs.
EMBEDDING_ROWS_SHARE = 0.5


def parameters(shape: dict = MDPR) -> tuple[int, int]:
    """(embedding, non-embedding) parameter counts of a BERT."""
    h, ff, layers = shape["hidden_size"], shape["intermediate_size"], shape["num_hidden_layers"]
    embedding = (shape["vocab_size"] + shape["max_position_embeddings"] + 2) * h + 2 * h
    layer = 4 * h * h + 4 * h + 2 * h * ff + ff + h + 4 * h
    return embedding, layers * layer + h * h + h


def embedding_rows(train: dict, n: int | None, shape: dict = MDPR) -> int:
    """The word-piece rows AdamW updates in a run on `n` pairs: every row, or under ``embedding_rows:
    sample`` (swimscale.model: only the rows of the training queries' word pieces train; the others only
    decay, exactly) at most ``QUERY_TOKENS`` new pieces a query and at most ``EMBEDDING_ROWS_SHARE`` of
    the vocabulary (an assumed bound; `n` None: the bound)."""
    vocab = shape["vocab_size"]
    if train.get("embedding_rows", "all") != "sample":
        return vocab
    bound = math.ceil(EMBEDDING_ROWS_SHARE * vocab)
    return bound if n is None else min(bound, n * QUERY_TOKENS)


def trained_parameters(train: dict, shape: dict = MDPR, n: int | None = None) -> int:
    """The parameters AdamW updates: every one, less the embeddings under ``freeze_embeddings``, only the
    top ``trainable_layers`` layers (and the pooler) when that is set, only :func:`embedding_rows` of the
    word-piece rows (for a run on `n` pairs) under ``embedding_rows: sample``."""
    embedding, body = parameters(shape)
    if train.get("trainable_layers") is not None:
        h, ff = shape["hidden_size"], shape["intermediate_size"]
        layer = 4 * h * h + 4 * h + 2 * h * ff + ff + h + 4 * h
        return train["trainable_layers"] * layer + h * h + h
    if train.get("freeze_embeddings"):
        return body
    unused = (shape["vocab_size"] - embedding_rows(train, n, shape)) * shape["hidden_size"]
    return body + embedding - unused


def forward_flops(tokens: int, shape: dict = MDPR) -> float:
    """One sequence of `tokens` through the encoder: 2 FLOPs per non-embedding parameter per token plus
    the attention scores and mixing, 4·layers·L²·h."""
    return 2.0 * parameters(shape)[1] * tokens + 4.0 * shape["num_hidden_layers"] * tokens**2 * shape["hidden_size"]


@dataclass(frozen=True)
class Run:
    """One student: language, N (the pairs it trains on), seed and method."""

    code: str
    n: int
    seed: int
    method: str


def runs(config: dict) -> list[Run]:
    """Every trained student of a validated config: per language its sizes N > 0 (a capped size trains
    on the pool, ~``INDIC_POOL``), its seeds (the pool's ``seeds`` when it has one) and the methods."""
    out = []
    for code in config["languages"]:
        pool = config["pools"][code]
        sizes = pool.get("sizes") or config["sizes"]
        seeds = pool.get("seeds") or config["seeds"]
        methods = pool.get("methods") or config["methods"]
        for size in sizes:
            if size <= 0:
                continue
            n = min(size, INDIC_POOL) if pool.get("cap_sizes") and size > INDIC_POOL else size
            out += [Run(code, n, seed, method) for seed in seeds for method in methods]
    return out


def eval_step(train: dict, n: int, k: int) -> int:
    """The update after which a run on `n` pairs makes its k-th dev evaluation: every
    ``eval_every_passes`` passes over the pairs (swimscale.model.Selection), else every ``eval_every``."""
    if train.get("eval_every_passes") is None:
        return k * train["eval_every"]
    batch = min(train["batch_size"], n)
    return math.ceil(Fraction(k * n, batch) * Fraction(str(train["eval_every_passes"])))


def evaluations(train: dict, n: int, count: int) -> int:
    """Dev evaluations of a run of `count` updates (the untrained student's included)."""
    if train.get("eval_every_passes") is None:
        return count // train["eval_every"] + 1
    batch = min(train["batch_size"], n)
    return math.floor(Fraction(count * batch, n) / Fraction(str(train["eval_every_passes"]))) + 1


def updates(train: dict, n: int) -> dict[str, int]:
    """A run's updates: least (earliest stop: the untrained student stays best, so `patience`
    evaluations), expected (the best after ``EXPECTED_PASSES`` passes, rounded up to an evaluation, then
    `patience` evaluations) and cap; never a stop before the floor (``min_steps``, ``min_passes``)."""
    batch = min(train["batch_size"], n)
    cap = train["max_steps"]
    if train["budget"] == "fixed_passes":
        cap = min(cap, math.ceil(Fraction(n, batch) * Fraction(str(train["passes"]))))
    if train.get("max_passes"):  # a budget counted in passes over the N pairs
        cap = min(cap, math.ceil(train["max_passes"] * n / batch))
    if train["budget"] in ("fixed", "fixed_passes"):
        return {"least": cap, "expected": cap, "cap": cap}
    floor = max(train["min_steps"], math.ceil(Fraction(n, batch) * Fraction(str(train.get("min_passes") or 0))))
    every_passes = train.get("eval_every_passes")
    per_eval = Fraction(train["eval_every"] * batch, n) if every_passes is None else Fraction(str(every_passes))
    best = math.ceil(Fraction(str(EXPECTED_PASSES)) / per_eval)  # the evaluation that finds the best
    least = max(floor, eval_step(train, n, train["patience"]))
    expected = max(floor, eval_step(train, n, best + train["patience"]))
    return {"least": min(cap, least), "expected": min(cap, expected), "cap": cap}


def dev_passages(config: dict, code: str) -> int:
    """The passages of the language's dev collection (its benchmarks' corpus_size, else XTREME-UP's)."""
    sizes = [bench.get("corpus_size") for bench in config["benchmarks"].values()
             if bench.get("role") == "dev" and code in (bench.get("pools") or [bench["language"]])]
    return next((s for s in sizes if s), COLLECTION_PASSAGES)


def collections(config: dict) -> dict[str, int]:
    """{collection: passages} of the benchmarks of the config (a collection's corpus_size, else XTREME-UP's)."""
    out: dict[str, int] = {}
    for name, bench in config["benchmarks"].items():
        key = bench.get("collection") or (bench.get("id", "").split("/")[1] if bench["source"] == "ir_datasets"
                                           else bench["source"] if bench["source"] == "xtreme_up" else name)
        out[key] = max(out.get(key, 0), bench.get("corpus_size") or COLLECTION_PASSAGES)
    return out


def pool_pairs(config: dict, code: str) -> int:
    """The pairs of a language's validated pool, as planned: ~``INDIC_POOL`` for a language whose sizes
    are capped (its largest size stands for 'all of it'), else ~``SWIMIR_POOL``."""
    pool = config["pools"][code]
    return min(max(pool.get("sizes") or config["sizes"]), INDIC_POOL) if pool.get("cap_sizes") else SWIMIR_POOL


def state_bytes(pairs: int, tokens: bool = True, shape: dict = MDPR) -> float:
    """Bytes of the teacher's states of `pairs` pairs (swimscale.model._teacher_states, a run's own, a
    job's of one seed): bf16 token states of ``COUNTERPART_TOKENS`` a pair when `tokens` (a method reads
    them), two float32 pooled vectors a pair."""
    return pairs * ((COUNTERPART_TOKENS * shape["hidden_size"] * 2 if tokens else 0) + 8 * shape["hidden_size"])


def language_states(config: dict, code: str) -> bool:
    """Whether a language's training jobs read its teacher states (the ``teacher_states`` rule, once per
    language): ``train.teacher_tokens: language``, or ``auto`` in a GPU study (``allow_cpu`` false)
    for a capped pool whose planned states fit ``train.teacher_cache_gib``. Decided from the config
    alone, since the DAG is built before any pool is read; the job checks the real file's size."""
    train = config["train"]
    if train["teacher_tokens"] == "language":
        return True
    if train["teacher_tokens"] != "auto" or config.get("allow_cpu"):
        return False
    pool = config["pools"][code]
    return bool(pool.get("cap_sizes")) and state_bytes(pool_pairs(config, code)) <= train["teacher_cache_gib"] * 2**30


def language_states_files(config: dict, layout, code: str) -> dict[str, str]:
    """A training job's input of the language's teacher states: {"teacher_states": its file}
    (``layout.teacher_states``) for a job that reads them (:func:`language_states`), else {}."""
    return {"teacher_states": layout.teacher_states(code)} if language_states(config, code) else {}


def teacher_states_input(config: dict, layout) -> Callable[[object], dict[str, str]]:
    """The train rule's input function (of its wildcards) for :func:`language_states_files`."""
    return lambda wildcards: language_states_files(config, layout, wildcards.language)


def run_state_bytes(config: dict, run: Run, shape: dict = MDPR) -> float:
    """Bytes of one run's own teacher states: tokens (bf16) only for the arms that read them (the
    transport arms), two float32 pooled vectors a pair for every arm."""
    return state_bytes(run.n, run.method in TOKEN_METHODS, shape)


def job_seeds(config: dict) -> dict[tuple, tuple[int, bool]]:
    """{(training job, seed): (the largest N of its students of that seed, whether one of them reads the
    teacher's tokens)}: what the job's states of that seed cover (``teacher_tokens: job``)."""
    out: dict[tuple, tuple[int, bool]] = {}
    for run in runs(config):
        key = (job_key(config, run), run.seed)
        n, tokens = out.get(key, (0, False))
        out[key] = (max(n, run.n), tokens or run.method in TOKEN_METHODS)
    return out


def teacher_mode(config: dict, run: Run, gpu: bool, largest: dict | None = None) -> str:
    """What ``train.teacher_tokens`` resolves to for `run` (module docstring); `largest`: :func:`job_seeds`
    of the config (computed when not given)."""
    train = config["train"]
    mode = train["teacher_tokens"]
    if mode != "auto":
        return mode
    if not gpu:
        return "precompute"
    if language_states(config, run.code):
        return "language"
    n, tokens = (largest if largest is not None else job_seeds(config))[(job_key(config, run), run.seed)]
    if state_bytes(n, tokens) <= train.get("teacher_host_gib", 0) * 2**30:
        return "job"
    fits = run_state_bytes(config, run) <= train["teacher_cache_gib"] * 2**30
    return "precompute" if fits else "on_the_fly"


def job_key(config: dict, run: Run) -> tuple:
    """The training job that trains `run` under ``students_per_job``."""
    grouping = config.get("students_per_job") or "one"
    if grouping == "language":
        return (run.code,)
    if grouping == "sizes_and_seeds":
        return run.code, run.method
    if grouping == "seeds":
        return run.code, run.method, run.n
    return run.code, run.method, run.n, run.seed
