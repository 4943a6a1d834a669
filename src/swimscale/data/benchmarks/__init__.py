"""Zero-shot benchmarks (queries in a language L, an English corpus, TREC qrels), each written in the
normalised form every later stage reads: `queries.tsv` (`qid<TAB>text`), `corpus.jsonl`
(`docid, title, text`) and `qrels.txt` (`qid 0 docid rel`), plus a manifest (see ``_write``).

Sources (config `benchmarks.<name>.source`), one module each, registered in :data:`SOURCES`:

- `bible` (:mod:`.bible`): held-out books of the Bible pairs, written with the pool by `prepare_bible`.
- `xtreme_up` (:mod:`.xtreme_up`): XTREME-UP's cross-language retrieval (queries in L → English passages).
- `ir_datasets` (:mod:`.ir_datasets`): any ir_datasets id with queries and qrels (e.g. CLIRMatrix).
- `trec` (:mod:`.trec`): local files already in our form.

Large corpora (CLIRMatrix's English Wikipedia) can be cut to `corpus_size` documents: every judged
document plus a seeded sample of the others, chosen while streaming; `max_queries` keeps a seeded
sample of the queries. Both are recorded in the manifest.

Adding a source takes one module and one entry:

1. a module here with ``prepare_<name>(name, bench, files, data_dir) -> manifest`` that builds the
   (queries, qrels, docs) streams and hands them to :func:`write_source`, and, if the config needs
   more than the schema can say, ``check(name, bench)`` raising ``InputError`` with the key;
2. an entry in :data:`SOURCES` below (rule ``prepare_benchmark``, the keys it requires);
3. its name in the schema's `benchmarks.<name>.source` enum and any new keys, with their defaults,
   in the schema (workflow/schemas/config.schema.yaml), the one home of defaults. The rule, the
   config checks and the wildcard constraints read :data:`SOURCES`; tests/data/test_registries.py
   checks that the schema and the registry agree.
"""

from pathlib import Path

from swimscale.data._source import Source, registry
from swimscale.data.benchmarks import bible, ir_datasets, trec, xtreme_up
from swimscale.data.benchmarks._write import BenchmarkFiles, finish_manifest, write_benchmark, write_source
from swimscale.data.benchmarks.ir_datasets import prepare_ir_datasets
from swimscale.data.benchmarks.trec import prepare_trec
from swimscale.data.benchmarks.xtreme_up import prepare_xtreme_up
from swimscale.errors import InputError

SOURCES: dict[str, Source] = registry(
    Source("bible", rule="prepare_bible", check=bible.check),
    Source("xtreme_up", rule="prepare_benchmark", check=xtreme_up.check, prepare=prepare_xtreme_up),
    Source("ir_datasets", rule="prepare_benchmark", required={"id": ""}, prepare=prepare_ir_datasets),
    Source(
        "trec",
        rule="prepare_benchmark",
        required=dict.fromkeys(trec.FILES, ""),
        input_files=trec.FILES,
        prepare=prepare_trec,
    ),
)


def prepare_benchmark(name: str, bench: dict, files: BenchmarkFiles, data_dir) -> dict:
    """Prepares benchmark `name` with its source's function; `bench` is its validated config entry
    (`benchmarks.<name>`, the schema's defaults filled in). Returns the manifest."""
    source = SOURCES.get(bench["source"])
    if source is None or source.prepare is None:
        raise InputError(f"config 'benchmarks.{name}.source': '{bench['source']}' is not prepared by prepare_benchmark")
    return source.prepare(name, bench, files, Path(data_dir))


__all__ = [
    "SOURCES",
    "BenchmarkFiles",
    "bible",
    "finish_manifest",
    "ir_datasets",
    "prepare_benchmark",
    "prepare_ir_datasets",
    "prepare_trec",
    "prepare_xtreme_up",
    "trec",
    "write_benchmark",
    "write_source",
    "xtreme_up",
]
