"""Small real data for the model tests: Chichewa–English Bible verses (the bundled Bibles), as training
records and as a dev set whose corpus is the English side of its queries plus other verses."""

from __future__ import annotations

import functools

import numpy as np

from swimscale import data
from swimscale.config import TeacherSettings, TrainSettings, defaults

TEACHER = "bundled:all-MiniLM-L6-v2"


def teacher_settings(**overrides) -> TeacherSettings:
    """The bundled MiniLM teacher with the schema's defaults, overridden by `overrides`."""
    return TeacherSettings.from_section({**defaults("teacher"), "name": "minilm", "model": TEACHER, **overrides})


def train_settings(**overrides) -> TrainSettings:
    """The schema's ``train`` defaults, overridden by `overrides`."""
    return TrainSettings.from_section({**defaults("train"), **overrides})


@functools.cache
def verses():
    """Aligned verses of Genesis 1–3 (the training side) and of Psalms 23–30 (the dev side)."""
    ny_dir, kjv_path = data.bundled_bible_paths()
    kjv, _ = data.read_kjv(kjv_path)
    aligned, _ = data.align_bibles(data.read_chichewa(ny_dir), kjv)
    train = [v for v in aligned if v.book == 1 and v.chapter <= 3]
    dev = [v for v in aligned if v.book == 19 and 23 <= v.chapter <= 30]
    return train, dev


def records(n: int, translations: bool = True) -> list[dict]:
    """The first n training pairs (with `query_en`: balanced transport; without: semi-relaxed)."""
    train, _ = verses()
    return [{"_id": f"r{v.key}", "query": v.source, "text": v.english, **({"query_en": v.english} if translations else {})}
            for v in train[:n]]


def dev_parts(n_queries: int = 24) -> tuple[dict, list[str], list[str], dict]:
    """(queries, corpus texts, docids, qrels): every other dev verse is a query, its English verse the
    one relevant document; the corpus is every English dev verse (>50, so Recall@50 can miss)."""
    _, dev = verses()
    queries = {f"q{v.key}": v.source for v in dev[::2][:n_queries]}
    docids = [f"d{v.key}" for v in dev]
    return queries, [v.english for v in dev], docids, {f"q{v.key}": {f"d{v.key}": 1} for v in dev[::2][:n_queries]}


def normalised(matrix: np.ndarray) -> np.ndarray:
    return matrix / np.linalg.norm(matrix, axis=1, keepdims=True)
