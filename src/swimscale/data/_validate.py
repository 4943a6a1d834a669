"""Checks of a language's prepared data, run by the `validate` rule once the prepare stage has written
its pool and benchmarks; every training job of that language depends on it: the pool parses
(`read_pool`: file and line), every size fits in it, and each benchmark is consistent (every judged
document is in the corpus, every judged query is a query, every query has a relevant document).
Every failure raises `InputError` (a ValueError) whose message starts with the file.
"""

from __future__ import annotations

import json
from pathlib import Path

from swimscale.data._records import iter_pool, numbered_lines, read_corpus, read_queries
from swimscale.errors import InputError


def check_pool(path: Path, code: str, sizes: list[int], cap_sizes: bool) -> int:
    """Parses the pool (file and line of any bad record) and checks that every size fits in it
    (unless `cap_sizes`, the config's `pools.<code>.cap_sizes`: then a larger size trains on the whole
    pool)."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: pool file does not exist")
    if path.stat().st_size == 0:
        raise InputError(f"{path}: empty pool file (no records)")
    try:
        stream = iter_pool(path, code=code)
        count = sum(1 for _ in stream)
    except ValueError as err:
        raise InputError(str(err)) from None
    too_big = sorted(size for size in sizes if size > count)
    if too_big and not cap_sizes:
        raise InputError(
            f"config 'sizes' (or 'pools.{code}.sizes'): {', '.join(map(str, too_big))} larger than the {count} "
            f"records of language '{code}' in {path} (pools.{code}.cap_sizes: true trains on all of them instead)"
        )
    return count


def check_benchmark(name: str, queries: Path, corpus: Path, qrels: Path) -> dict:
    """Every query has a relevant document; every judged document is in the corpus; every judged
    query is a query. Returns counts."""
    for path in (queries, corpus, qrels):
        if not Path(path).exists():
            raise InputError(f"benchmark '{name}': {path} does not exist")
        if Path(path).stat().st_size == 0:
            raise InputError(f"benchmark '{name}': {path} is empty")
    try:
        query_texts = read_queries(Path(queries))
        docids, _ = read_corpus(Path(corpus))
    except ValueError as err:
        raise InputError(str(err)) from None
    if not query_texts:
        raise InputError(f"{queries}: no queries")
    if not docids:
        raise InputError(f"{corpus}: no documents")
    relevant, judgements = check_qrels(Path(qrels), Path(queries), set(query_texts), Path(corpus), set(docids))
    for line_no, qid in enumerate(query_texts, 1):
        if qid not in relevant:
            raise InputError(
                f"{queries}: query '{qid}' (record {line_no}) has no relevant document in {qrels}; "
                "Recall would count it as 0 for every run"
            )
    return {"queries": len(query_texts), "documents": len(docids), "judgements": judgements}


def check_qrels(qrels: Path, queries: Path, qids: set[str], corpus: Path, docids: set[str]) -> tuple[dict[str, int], int]:
    """({qid: relevant documents}, judgements) of a qrels file whose every line judges a query of
    `queries` and a document of `corpus` with an integer relevance."""
    relevant: dict[str, int] = {}
    judgements = 0
    for line_no, line in numbered_lines(qrels):
        parts = line.split()
        if len(parts) != 4:
            raise InputError(f"{qrels}: line {line_no}: expected 'qid 0 docid relevance', got {line.strip()!r}")
        qid, _, docid, rel = parts
        try:
            rel_value = int(rel)
        except ValueError:
            raise InputError(f"{qrels}: line {line_no}: relevance {rel!r} is not an integer") from None
        if qid not in qids:
            raise InputError(f"{qrels}: line {line_no}: query '{qid}' is not in {queries}")
        if docid not in docids:
            raise InputError(f"{qrels}: line {line_no}: document '{docid}' is not in the corpus {corpus}")
        judgements += 1
        if rel_value > 0:
            relevant[qid] = relevant.get(qid, 0) + 1
    return relevant, judgements


def check_language(code: str, pool: Path, sizes: list[int], benchmarks: dict[str, dict], cap_sizes: bool) -> dict:
    """Everything a language's training and evaluation read; `benchmarks`: name → {queries, corpus,
    qrels} paths. Returns a report (counts) for results/validate/<code>.json."""
    report = {"language": code, "pool": str(pool), "pool_records": check_pool(Path(pool), code, sizes, cap_sizes)}
    report["sizes"] = sorted(sizes)
    report["benchmarks"] = {
        name: check_benchmark(name, Path(files["queries"]), Path(files["corpus"]), Path(files["qrels"]))
        for name, files in benchmarks.items()
    }
    return report


def write_report(report: dict, path: Path) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
