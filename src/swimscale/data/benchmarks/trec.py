"""Local files already in our form (config `source: trec`, keys `queries`, `corpus`, `qrels`): a
queries TSV (`qid<TAB>text`), a corpus JSONL (`docid, title, text`) and TREC qrels (`qid 0 docid rel`).
Relative paths start at the working directory. Each file is a declared input of the job that reads it
(the corpus: `prepare_collection`; queries and qrels: `prepare_benchmark`), so an edit re-runs them.
Benchmarks that name one `collection` must name one `corpus` file.
"""

from __future__ import annotations

from pathlib import Path

from swimscale.data.benchmarks._write import Documents, Streams, jsonl_objects
from swimscale.errors import DataMissingError
from swimscale.formats import iter_qrels, numbered_lines

FILES = ("queries", "corpus", "qrels")  # config keys naming the three input files


def read_queries_tsv(path: Path):
    for line_no, line in numbered_lines(path):
        parts = line.rstrip("\n").split("\t")
        if len(parts) != 2:
            raise ValueError(f"{path}: line {line_no}: expected 'qid<TAB>text'")
        yield parts[0], parts[1], f"{path}: line {line_no}"


def has_content(path: Path) -> bool:
    """Whether a file has a line that is not blank or whitespace (read up to the first such line)."""
    with open(path, "rb") as handle:
        return any(line.strip() for line in handle)


def source_paths(name: str, bench: dict, keys: tuple[str, ...]) -> dict[str, Path]:
    paths = {key: Path(bench[key]).expanduser() for key in keys}
    absent = [f"benchmarks.{name}.{k}: {p}" for k, p in paths.items() if not p.is_file()]
    if absent:
        raise DataMissingError(
            f"benchmark '{name}': file(s) not found: {'; '.join(absent)}. Put the queries TSV (qid<TAB>text), the "
            f"corpus JSONL (docid, title, text) and the TREC qrels (qid 0 docid rel) there, or fix the paths."
        )
    # A file of blank lines only would be prepared as an empty benchmark or collection, and fail much later.
    blank = [f"benchmarks.{name}.{k}: {p}" for k, p in paths.items() if not has_content(p)]
    if blank:
        raise ValueError(f"benchmark '{name}': file(s) with no record, only blank lines: {'; '.join(blank)}")
    return paths


def user_files(name: str, bench: dict, data_dir) -> list[Path]:
    return [Path(bench[key]).expanduser() for key in ("queries", "qrels")]


def collection_files(bench: dict, data_dir) -> list[Path]:
    return [Path(bench["corpus"]).expanduser()]


def read(name: str, bench: dict, data_dir) -> Streams:
    """The queries TSV and the qrels. (`data_dir` is unused: the files are where the config says.) The
    qrels are read by :func:`swimscale.formats.iter_qrels`'s rules, except that a pair judged twice is
    passed on: the benchmark's `on_bad_judgement` stops on it or drops and counts it."""
    paths = source_paths(name, bench, ("queries", "qrels"))
    qrels = iter_qrels(paths["qrels"], duplicates=True)
    return Streams(read_queries_tsv(paths["queries"]), qrels, inputs=paths,
                   info={f"{k}_file": str(p) for k, p in paths.items()})


def documents(collection_name: str, members: dict[str, dict], data_dir) -> Documents:
    """The corpus JSONL the members name (one file: the config check makes sure)."""
    name, bench = sorted(members.items())[0]
    corpus = source_paths(name, bench, ("corpus",))["corpus"]

    def docs():
        for where, r in jsonl_objects(corpus, ("docid", "text")):
            yield r["docid"], r.get("title", ""), r["text"], where

    return Documents(docs, inputs={"corpus": corpus}, info={"corpus_file": str(corpus)})
