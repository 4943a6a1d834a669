"""Cross-key checks of the training settings (standard library only: they run when the DAG is built).

:func:`train_problems` checks the ``train`` section alone (also called by
``swimscale.config.TrainSettings``); :func:`training_problems` checks a whole validated config:
that plus, under the ``converged`` budget, exactly one dev benchmark (``role: dev``) for every language
that trains a student. Each problem names its keys.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# Methods whose loss reads the other pairs of its batch (in-batch negatives): their batch cannot be split
# into micro-batches without changing the loss. Kept equal to the losses' `in_batch_negatives` by a test
# (tests/model/test_scoring_vector.py); here, in the standard library, for the rules.
IN_BATCH_NEGATIVES = frozenset({"contrastive"})


def micro_batch(method: str, batch_size: int, attempt: int) -> int:
    """The train rule's `micro_batch` resource: the batch at the first attempt, halved at each retry (an
    answer to running out of memory: gradient accumulation keeps the update); never split for a method
    with in-batch negatives, whose retry runs the whole batch again (and, out of memory, stops naming
    ``train.batch_size``)."""
    if method in IN_BATCH_NEGATIVES:
        return batch_size
    return max(1, batch_size // 2 ** (attempt - 1))


BUDGETS = ("converged", "fixed", "fixed_passes")
TEACHER_TOKENS = ("auto", "precompute", "on_the_fly", "language", "job")
EMBEDDING_ROWS = ("all", "sample")


def train_problems(train: Mapping[str, Any]) -> list[str]:
    """Cross-key problems of a validated ``train`` section (empty: none)."""
    problems = []
    if train["budget"] not in BUDGETS:
        problems.append(f"config 'train.budget': {train['budget']!r} is not one of {', '.join(BUDGETS)}")
    if train["teacher_tokens"] not in TEACHER_TOKENS:
        problems.append(f"config 'train.teacher_tokens': {train['teacher_tokens']!r} is not one of "
                        f"{', '.join(TEACHER_TOKENS)}")
    if train["embedding_rows"] not in EMBEDDING_ROWS:
        problems.append(f"config 'train.embedding_rows': {train['embedding_rows']!r} is not one of "
                        f"{', '.join(EMBEDDING_ROWS)}")
    if train["min_steps"] > train["max_steps"]:
        problems.append(f"config 'train': min_steps ({train['min_steps']}) exceeds max_steps ({train['max_steps']})")
    if train["budget"] == "fixed_passes" and train["passes"] is None:
        problems.append("config 'train': budget fixed_passes trains every N for `passes` passes; set train.passes")
    if train["budget"] == "converged" and train["eval_every_passes"] is None and train["eval_every"] > train["max_steps"]:
        problems.append(f"config 'train': eval_every ({train['eval_every']}) exceeds max_steps "
                        f"({train['max_steps']}), so a converged run would never evaluate a trained student")
    if train["trainable_layers"] is not None and not train["freeze_embeddings"]:
        problems.append("config 'train': trainable_layers is set, which freezes the embeddings and the lower "
                        "layers, but freeze_embeddings is false; set it true (or trainable_layers: null)")
    return problems


def dev_benchmarks_of(config: Mapping[str, Any], code: str) -> list[str]:
    """The dev benchmarks (``role: dev``) whose `language` or `pools` include a language."""
    return [name for name, bench in config["benchmarks"].items()
            if bench["role"] == "dev" and code in (bench["pools"] or [bench["language"]])]


def training_problems(config: Mapping[str, Any]) -> list[str]:
    """:func:`train_problems`, and under ``converged`` exactly one dev benchmark per trained language."""
    problems = train_problems(config["train"])
    if config["train"]["budget"] != "converged":
        return problems
    for code in config["languages"]:
        sizes = config["pools"][code]["sizes"] or config["sizes"]
        if not any(size > 0 for size in sizes):
            continue
        dev = dev_benchmarks_of(config, code)
        if len(dev) != 1:
            found = f"found {', '.join(dev)}" if dev else "found none"
            problems.append(f"config 'train.budget' is converged, which selects each student of language "
                            f"'{code}' on one dev benchmark (a 'benchmarks' entry with role: dev and language "
                            f"or pools {code}); {found}")
    return problems
