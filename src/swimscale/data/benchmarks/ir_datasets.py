"""Any ir_datasets id with queries and qrels (config `source: ir_datasets`, key `id`), e.g.
`clirmatrix/en/bi139-base/yo/test1` (English documents, Yoruba queries — CLIRMatrix ids name the
document language first), read through ir_datasets' own `queries_iter`, `qrels_iter` and `docs_iter`.
Its files live under IR_DATASETS_HOME if set, else `<data_dir>/ir_datasets`.

Collections: every CLIRMatrix id with documents in language D searches the same documents
(ir_datasets' `clirmatrix/<D>`, English Wikipedia leads for D = en): collection `clirmatrix-<D>`,
formed once from every judged document (all grades, 0 included) of every configured split that uses it
plus one seeded sample.
Other ids that share documents must differ only in their last component (the split).

Relevance: CLIRMatrix grades 100 documents per query from 0 to 6 (ir_datasets' QRELS_DEFS: 6 "most
relevant", 1–5 bands of Jenks-optimised BM25 scores of a monolingual search in the source language, 0
"not retrieved"). Levels 1–5 say a document is topically close, not that it answers the query, and a
query can have dozens of them, so Recall@50 could not reach 1. The default threshold for CLIRMatrix is
therefore 6 (the top grade, a few documents per query — the closest to XTREME-UP's single gold
passage); every other id keeps trec_eval's rule, relevance ≥ 1. `min_relevance` sets it per benchmark.
"""

from __future__ import annotations

import os
from pathlib import Path

from swimscale.data.benchmarks._write import Documents, Streams, file_lock
from swimscale.errors import DataMissingError

# The top CLIRMatrix grade: the default threshold of a CLIRMatrix benchmark (see the module docstring).
CLIRMATRIX_TOP_GRADE = 6


def home(data_dir) -> Path:
    """IR_DATASETS_HOME if the user set it, else `<data_dir>/ir_datasets` (read by ir_datasets at import)."""
    return Path(os.environ.get("IR_DATASETS_HOME") or Path(data_dir) / "ir_datasets")


def is_clirmatrix(dataset_id: str) -> bool:
    return dataset_id.startswith("clirmatrix/") and len(dataset_id.split("/")) == 5


def documents_of(bench: dict) -> str:
    """The document set an id searches: `clirmatrix/<document language>`, else the id without its split."""
    dataset_id = bench["id"]
    if is_clirmatrix(dataset_id):
        return "/".join(dataset_id.split("/")[:2])
    return dataset_id.rsplit("/", 1)[0]


def collection(name: str, bench: dict) -> str:
    """`clirmatrix-<document language>` for a CLIRMatrix id, else the benchmark's own name."""
    return documents_of(bench).replace("/", "-") if is_clirmatrix(bench["id"]) else name


def min_relevance(bench: dict) -> int:
    return CLIRMATRIX_TOP_GRADE if is_clirmatrix(bench["id"]) else 1


def _first_line(err: BaseException) -> str:
    return f"{type(err).__name__}: {(str(err).strip().splitlines() or [''])[0]}"


def missing_message(name: str, dataset_id: str, home: Path, error: str) -> str:
    return (
        f"benchmark '{name}': ir_datasets could not provide '{dataset_id}' ({error}).\n"
        f"With internet the job downloads it into {home}. Without internet, on a machine that has it run\n"
        f"  IR_DATASETS_HOME={home} ir_datasets export {dataset_id} queries > /dev/null\n"
        f"  IR_DATASETS_HOME={home} ir_datasets export {dataset_id} qrels > /dev/null\n"
        f"  IR_DATASETS_HOME={home} ir_datasets export {dataset_id} docs > /dev/null\n"
        f"and copy {home} to the same path here (or point IR_DATASETS_HOME at the copy)."
    )


def load(name: str, dataset_id: str, files_home: Path, parts: tuple[str, ...]):
    """The ir_datasets dataset, the `parts` asked for fetched: loading (some datasets fetch an index of
    their files then) and the first item of each iterator trigger the downloads, under one lock, so that
    several jobs sharing files (CLIRMatrix's English Wikipedia) download them once."""
    os.environ["IR_DATASETS_HOME"] = str(files_home)  # before the import: ir_datasets reads it then
    import ir_datasets

    with file_lock(files_home / ".swimscale.lock"):
        try:
            dataset = ir_datasets.load(dataset_id)
        except KeyError as err:
            raise ValueError(
                f"config 'benchmarks.{name}.id': ir_datasets cannot load '{dataset_id}' (KeyError: {err}); "
                "CLIRMatrix ids are clirmatrix/<document language>/<bi139-base|bi139-full|multi8>/<query language>/<split>"
            ) from None
        except Exception as err:  # offline: say what to fetch
            raise DataMissingError(missing_message(name, dataset_id, files_home, _first_line(err))) from None
        for part in parts:
            if not getattr(dataset, f"has_{part}")():
                raise ValueError(f"config 'benchmarks.{name}.id': '{dataset_id}' has no {part}")
        try:
            for part in parts:
                next(iter(getattr(dataset, f"{part}_iter")()), None)
        except Exception as err:  # offline or instructions-only sources: say what to fetch
            raise DataMissingError(missing_message(name, dataset_id, files_home, _first_line(err))) from None
    return dataset


def read(name: str, bench: dict, data_dir) -> Streams:
    """The id's queries and judgements (graded, as ir_datasets gives them)."""
    dataset_id = bench["id"]
    files_home = home(data_dir)
    dataset = load(name, dataset_id, files_home, ("queries", "qrels"))

    def queries():
        for n, q in enumerate(dataset.queries_iter(), 1):
            yield q.query_id, q.default_text() if hasattr(q, "default_text") else q.text, f"{dataset_id} queries: item {n}"

    def qrels():
        for n, r in enumerate(dataset.qrels_iter(), 1):
            yield r.query_id, r.doc_id, r.relevance, f"{dataset_id} qrels: item {n}"

    info = {"id": dataset_id, "ir_datasets_home": str(files_home)}
    return Streams(queries(), qrels(), info=info, packages=("ir-datasets",))


def documents(collection_name: str, members: dict[str, dict], data_dir) -> Documents:
    """The documents of the members' ids (one document set: the config check makes sure)."""
    name, bench = sorted(members.items())[0]
    dataset_id = bench["id"]
    files_home = home(data_dir)
    dataset = load(name, dataset_id, files_home, ("docs",))

    def docs():
        for n, d in enumerate(dataset.docs_iter(), 1):
            title = getattr(d, "title", "") or ""
            text = getattr(d, "text", None) or getattr(d, "body", None)
            if text is None:
                text = d.default_text()
            yield d.doc_id, title, text, f"{dataset_id} docs: item {n}"

    info = {"documents": documents_of(bench), "read_through": dataset_id, "ir_datasets_home": str(files_home)}
    return Documents(docs, info=info, packages=("ir-datasets",))
