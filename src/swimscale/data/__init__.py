"""Training pools and benchmarks, in one normalised on-disk form, with nested seeded subsamples.

Pool: JSONL in SWIM-IR's cross-lingual schema (``_id, lang, code, query, title, text``, plus an
optional ``query_en`` translation). Benchmark: ``queries.tsv``, ``corpus.jsonl`` and TREC qrels.
Pool sources (:data:`POOL_SOURCES`): the embedded Bible pairs (:func:`prepare_bible`), SWIM-IR from
the Hub or the release (:func:`prepare_swimir_pool`); the zero-shot benchmarks and their registry are
in :mod:`swimscale.data.benchmarks`. :func:`check_language` validates a language's prepared data.

This subpackage needs the standard library only (``datasets``/``pyarrow``/``ir_datasets`` are
imported where a source needs them): the process that builds the DAG imports it, torch never.
"""

from swimscale.data._bible import align_bibles, bundled_bible_paths, prepare_bible, read_chichewa, read_kjv, test_books
from swimscale.data._pools import POOL_SOURCES, prepare_pool
from swimscale.data._records import (
    POOL_FIELDS,
    BenchmarkFiles,
    iter_jsonl_lines,
    iter_jsonl_records,
    iter_pool,
    normalise_text,
    package_versions,
    read_corpus,
    read_pool,
    read_queries,
    record_problem,
    sha256_of,
    write_jsonl,
    write_manifest,
)
from swimscale.data._sampling import sample_pool, sample_rank, subsample
from swimscale.data._swimir import (
    BAD_RECORD_KINDS,
    CROSS_LINGUAL,
    HF_LANGUAGES,
    INDIC,
    check_sizes,
    hf_source,
    local_files,
    prepare_swimir_pool,
)
from swimscale.data._source import Source
from swimscale.data._validate import check_benchmark, check_language, check_pool, write_report
from swimscale.errors import DataMissingError, InputError

__all__ = [
    "BAD_RECORD_KINDS",
    "BenchmarkFiles",
    "CROSS_LINGUAL",
    "DataMissingError",
    "HF_LANGUAGES",
    "INDIC",
    "InputError",
    "POOL_FIELDS",
    "POOL_SOURCES",
    "Source",
    "align_bibles",
    "bundled_bible_paths",
    "check_benchmark",
    "check_language",
    "check_pool",
    "check_sizes",
    "hf_source",
    "iter_jsonl_lines",
    "iter_jsonl_records",
    "iter_pool",
    "local_files",
    "normalise_text",
    "package_versions",
    "prepare_bible",
    "prepare_pool",
    "prepare_swimir_pool",
    "read_chichewa",
    "read_corpus",
    "read_kjv",
    "read_pool",
    "read_queries",
    "record_problem",
    "sample_pool",
    "sample_rank",
    "sha256_of",
    "subsample",
    "test_books",
    "write_jsonl",
    "write_manifest",
    "write_report",
]
