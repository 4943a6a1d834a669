"""Training pools and benchmarks, in one normalised on-disk form, with nested seeded subsamples.

Pool: JSONL in SWIM-IR's cross-lingual schema (``_id, lang, code, query, title, text``, plus an
optional ``query_en`` translation). Benchmark: ``queries.tsv`` and TREC qrels, searching a collection's
``corpus.jsonl``. Pool sources (:data:`POOL_SOURCES`): the embedded Bible pairs (:func:`prepare_bible`,
which also writes the Bible's test and dev benchmarks), SWIM-IR from the Hub or the release
(:func:`prepare_swimir_pool`); the zero-shot benchmarks, their collections and their registry are in
:mod:`swimscale.data.benchmarks`. :func:`check_language` validates a language's prepared data and
screens its pool against the documents its students are evaluated on; :func:`check_screened` checks,
before a student is scored, that the screen covered what the judgements now call relevant.

This subpackage needs the standard library only (``datasets``/``pyarrow``/``ir_datasets`` are
imported where a source needs them): the process that builds the DAG imports it, torch never.
"""

from swimscale.data._bible import (
    align_bibles,
    bundled_bible_paths,
    check_bible_settings,
    dev_books,
    read_chichewa,
    read_kjv,
    test_books,
)
from swimscale.data._bible_prepare import HeldOutFiles, prepare_bible
from swimscale.data._pools import POOL_SOURCES, prepare_pool
from swimscale.data._records import (
    POOL_FIELDS,
    RECALL_DEPTH,
    BenchmarkFiles,
    CollectionFiles,
    PoolFiles,
    checksums,
    iter_jsonl_lines,
    iter_corpus,
    iter_jsonl_records,
    iter_pool,
    normalise_text,
    package_versions,
    read_corpus,
    read_corpus_ids,
    read_pool,
    read_queries,
    record_problem,
    sha256_of,
    small_corpus_warnings,
    text_key,
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
    local_files,
    prepare_swimir_pool,
    snapshot_dir,
    snapshot_files,
)
from swimscale.data._screened import check_screened, prepared_counts, relevant_documents, screened_record
from swimscale.data._source import Source
from swimscale.data._validate import check_benchmark, check_language, check_pool, write_report
from swimscale.errors import DataMissingError, InputError

__all__ = [
    "BAD_RECORD_KINDS",
    "BenchmarkFiles",
    "CollectionFiles",
    "CROSS_LINGUAL",
    "DataMissingError",
    "HF_LANGUAGES",
    "HeldOutFiles",
    "INDIC",
    "InputError",
    "POOL_FIELDS",
    "POOL_SOURCES",
    "PoolFiles",
    "RECALL_DEPTH",
    "Source",
    "align_bibles",
    "bundled_bible_paths",
    "check_benchmark",
    "check_bible_settings",
    "check_language",
    "check_pool",
    "check_screened",
    "check_sizes",
    "checksums",
    "dev_books",
    "iter_corpus",
    "iter_jsonl_lines",
    "iter_jsonl_records",
    "iter_pool",
    "local_files",
    "normalise_text",
    "package_versions",
    "prepare_bible",
    "prepare_pool",
    "prepare_swimir_pool",
    "prepared_counts",
    "read_chichewa",
    "read_corpus",
    "read_corpus_ids",
    "read_kjv",
    "read_pool",
    "read_queries",
    "record_problem",
    "relevant_documents",
    "sample_pool",
    "sample_rank",
    "screened_record",
    "sha256_of",
    "small_corpus_warnings",
    "snapshot_dir",
    "snapshot_files",
    "subsample",
    "test_books",
    "text_key",
    "write_jsonl",
    "write_manifest",
    "write_report",
]
