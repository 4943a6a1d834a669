"""Local files already in our form (config `source: trec`, keys `queries`, `corpus`, `qrels`): a
queries TSV (`qid<TAB>text`), a corpus JSONL (`docid, title, text`) and TREC qrels (`qid 0 docid rel`).
Relative paths start at the working directory.
"""

from __future__ import annotations

from pathlib import Path

from swimscale.data._records import numbered_lines
from swimscale.data.benchmarks._write import BenchmarkFiles, jsonl_objects, write_source
from swimscale.errors import DataMissingError

FILES = ("queries", "corpus", "qrels")  # config keys naming the three input files


def read_queries_tsv(path: Path):
    for line_no, line in numbered_lines(path):
        parts = line.rstrip("\n").split("\t")
        if len(parts) != 2:
            raise ValueError(f"{path}: line {line_no}: expected 'qid<TAB>text'")
        yield parts[0], parts[1], f"{path}: line {line_no}"


def read_qrels_file(path: Path):
    for line_no, line in numbered_lines(path):
        parts = line.split()
        if len(parts) != 4 or not parts[3].lstrip("-").isdigit():
            raise ValueError(f"{path}: line {line_no}: expected 'qid 0 docid relevance'")
        yield parts[0], parts[2], int(parts[3]), f"{path}: line {line_no}"


def prepare_trec(name: str, bench: dict, files: BenchmarkFiles, data_dir) -> dict:
    """Writes benchmark `name` (`bench`: its validated config entry) from the three local files; returns
    the manifest. (`data_dir` is unused: the files are where the config says.)"""
    sources = {key: Path(bench[key]).expanduser() for key in FILES}
    absent = [f"benchmarks.{name}.{k}: {p}" for k, p in sources.items() if not p.is_file()]
    if absent:
        raise DataMissingError(
            f"benchmark '{name}': file(s) not found: {'; '.join(absent)}. Put the queries TSV (qid<TAB>text), the "
            f"corpus JSONL (docid, title, text) and the TREC qrels (qid 0 docid rel) there, or fix the paths."
        )

    def docs():
        for where, r in jsonl_objects(sources["corpus"], ("docid", "text")):
            yield r["docid"], r.get("title", ""), r["text"], where

    streams = (read_queries_tsv(sources["queries"]), read_qrels_file(sources["qrels"]), docs)
    inputs = {f"{k}_file": str(p) for k, p in sources.items()}
    return write_source(name, bench, files, streams, inputs)
