"""Zero-shot benchmarks (queries in a language L searching a collection of English documents, TREC
qrels), each written in the normalised form every later stage reads: per benchmark `queries.tsv`
(`qid<TAB>text`) and `qrels.txt` (`qid 0 docid rel`), per collection `corpus.jsonl` (`docid, title,
text`), each with a manifest (see ``_write`` and ``_judgements``).

Sources (config `benchmarks.<name>.source`), one module each, registered in :data:`SOURCES`:

- `bible` (:mod:`.bible`): held-out books of the Bible pairs, written with the pool by `prepare_bible`.
- `xtreme_up` (:mod:`.xtreme_up`): XTREME-UP's cross-language retrieval (queries in L → English passages).
- `ir_datasets` (:mod:`.ir_datasets`): any ir_datasets id with queries and qrels (e.g. CLIRMatrix).
- `trec` (:mod:`.trec`): local files already in our form.

A benchmark's role (`test`: reported; `dev`: chooses among students during training) does not change
how it is prepared. Benchmarks that share a collection (:func:`collection_of`) share one corpus:
:func:`prepare_collection` writes it once, from every judged document of its member benchmarks plus
the others — all, or a seeded sample up to `corpus_size` — and :func:`prepare_benchmark` checks each
member's queries and judgements against it.

Adding a source takes one module and one entry:

1. a module here with ``read(name, bench, data_dir) -> Streams`` (queries and judgements),
   ``documents(collection, members, data_dir) -> Documents``, ``user_files`` / ``collection_files``
   (the local files they read, declared as the rules' inputs) and, if the config needs more than the
   schema can say, ``check(name, bench)`` raising ``InputError`` with the key;
2. an entry in :data:`SOURCES` below (rule ``prepare_benchmark``, the keys it requires, the keys that
   form its collection);
3. its name in the schema's `benchmarks.<name>.source` enum and any new keys, with their defaults,
   in the schema (workflow/schemas/config.schema.yaml), the one home of defaults. The rules, the
   config checks and the wildcard constraints read :data:`SOURCES`; tests/data/test_registries.py
   checks that the schema and the registry agree.
"""

from collections import Counter
from pathlib import Path

from swimscale.data._records import BenchmarkFiles, CollectionFiles, checksums, package_versions, read_corpus_ids
from swimscale.data._records import small_corpus_warnings, write_manifest
from swimscale.data._source import Source, registry
from swimscale.data.benchmarks import bible, ir_datasets, trec, xtreme_up
from swimscale.data.benchmarks._judgements import BAD_JUDGEMENT_KINDS, BadItems, write_benchmark
from swimscale.data.benchmarks._write import Documents, Streams, collection_manifest, write_collection
from swimscale.errors import InputError

SOURCES: dict[str, Source] = registry(
    Source("bible", rule="prepare_bible", check=bible.check, collection=bible.collection),
    Source(
        "xtreme_up", rule="prepare_benchmark", check=xtreme_up.check, read=xtreme_up.read,
        documents=xtreme_up.documents, collection=xtreme_up.collection, collection_keys=("path", "url"),
        user_files=xtreme_up.user_files, collection_files=xtreme_up.collection_files,
    ),
    Source(
        "ir_datasets", rule="prepare_benchmark", required={"id": ""}, read=ir_datasets.read,
        documents=ir_datasets.documents, collection=ir_datasets.collection, min_relevance=ir_datasets.min_relevance,
    ),
    Source(
        "trec", rule="prepare_benchmark", required=dict.fromkeys(trec.FILES, ""), input_files=trec.FILES,
        read=trec.read, documents=trec.documents, collection_keys=("corpus",), user_files=trec.user_files,
        collection_files=trec.collection_files,
    ),
)

# Keys every member of a collection must share, beside its source's `collection_keys`.
COLLECTION_KEYS = ("source", "corpus_size", "seed", "on_bad_judgement")


def collection_of(name: str, bench: dict) -> str:
    """The collection a benchmark searches: its `collection` key, else its source's (see the schema)."""
    if bench.get("collection") is not None:  # optional key, null by default: the source decides
        return bench["collection"]
    source = SOURCES[bench["source"]]
    return source.collection(name, bench) if source.collection is not None else name


def collection_settings(bench: dict) -> dict:
    """The keys of a benchmark entry that form its collection (equal for every member of one)."""
    source = SOURCES[bench["source"]]
    settings = {key: bench.get(key) for key in (*COLLECTION_KEYS, *source.collection_keys)}
    if bench["source"] == "ir_datasets":
        settings["documents"] = ir_datasets.documents_of(bench)
    return settings


def min_relevance_of(bench: dict) -> int:
    """A benchmark's relevance threshold: its `min_relevance`, else its source's (1 but for CLIRMatrix)."""
    if bench.get("min_relevance") is not None:  # null by default: the source decides
        return bench["min_relevance"]
    source = SOURCES[bench["source"]]
    return source.min_relevance(bench) if source.min_relevance is not None else 1


def _source(entry_name: str, bench: dict) -> Source:
    source = SOURCES.get(bench["source"])
    if source is None or source.read is None:
        raise InputError(f"config 'benchmarks.{entry_name}.source': '{bench['source']}' is not prepared by prepare_benchmark")
    return source


def judged_documents(source: Source, members: dict[str, dict], data_dir) -> dict[str, int]:
    """{docid: its highest grade} of every document some member judges, whatever the grade (0 included),
    over every member's judgements."""
    grades: dict[str, int] = {}
    for member, bench in sorted(members.items()):
        for _, docid, rel, _ in source.read(member, bench, Path(data_dir)).qrels:
            docid, grade = str(docid), int(rel)
            if grade > grades.get(docid, grade - 1):
                grades[docid] = grade
    return grades


def prepare_collection(collection: str, members: dict[str, dict], files: CollectionFiles, data_dir) -> dict:
    """Writes collection `collection` for its `members` ({name: validated entry}); returns the manifest.

    With a `corpus_size`, every document some member judges is kept — every grade, 0 included: CLIRMatrix
    judges 100 documents per query, and those graded 0–5 are the hard distractors a sample would mostly
    drop, making Recall higher than a user would see — and a seeded sample of all the others fills the
    rest (none when the judged documents alone reach `corpus_size`). The manifest counts the judged
    documents kept by their highest grade (`judged_documents_by_grade`)."""
    name, first = sorted(members.items())[0]
    source = _source(name, first)
    settings = collection_settings(first)
    grades: dict[str, int] = {}
    if settings["corpus_size"] is not None:
        grades = judged_documents(source, members, data_dir)
    documents: Documents = source.documents(collection, members, Path(data_dir))
    counts = write_collection(documents, set(grades) if settings["corpus_size"] is not None else None, files,
                              corpus_size=settings["corpus_size"], seed=settings["seed"],
                              on_duplicate=settings["on_bad_judgement"])
    if grades:
        kept = read_corpus_ids(files.corpus)
        by_grade = Counter(grade for docid, grade in grades.items() if docid in kept)
        counts["judged_documents_by_grade"] = {str(g): by_grade[g] for g in sorted(by_grade)}
    return collection_manifest(collection, members, documents, files, counts, settings)


def prepare_benchmark(name: str, bench: dict, corpus: Path, files: BenchmarkFiles, data_dir) -> dict:
    """Writes benchmark `name` (`bench`: its validated entry) against its collection's `corpus`; returns
    the manifest, whose `dropped` counts what `on_bad_judgement: drop` left out."""
    source = _source(name, bench)
    streams: Streams = source.read(name, bench, Path(data_dir))
    docids = read_corpus_ids(Path(corpus))
    threshold = min_relevance_of(bench)
    counts, bad = write_benchmark(name, streams, docids, corpus, files, bench, threshold)
    counts["corpus_documents"] = len(docids)
    return write_manifest(files.manifest, {
        "source": bench["source"], "benchmark": name, "language": bench["language"], "role": bench["role"],
        "collection": collection_of(name, bench), **streams.info,
        "inputs": checksums(streams.inputs.values()),
        "settings": {"min_relevance": threshold, "max_queries": bench["max_queries"], "seed": bench["seed"],
                     "on_bad_judgement": bench["on_bad_judgement"], "max_lost_queries": bench["max_lost_queries"]},
        "counts": dict(sorted(counts.items())),
        "dropped": {kind: bad.counts.get(kind, 0) for kind in BAD_JUDGEMENT_KINDS},
        "dropped_examples": bad.examples,
        "warnings": small_corpus_warnings(len(docids)),
        "files": checksums(files.tables),
        "packages": package_versions(list(streams.packages)),
    })


__all__ = [
    "BAD_JUDGEMENT_KINDS",
    "COLLECTION_KEYS",
    "SOURCES",
    "BadItems",
    "BenchmarkFiles",
    "CollectionFiles",
    "Documents",
    "Streams",
    "bible",
    "collection_of",
    "collection_settings",
    "ir_datasets",
    "min_relevance_of",
    "prepare_benchmark",
    "prepare_collection",
    "trec",
    "write_benchmark",
    "write_collection",
    "xtreme_up",
]
