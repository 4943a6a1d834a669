"""Checks of a language's prepared data, run by the `validate` rule once the prepare stage has written
its pool, benchmarks and collections; every training job of that language depends on it.

- Each benchmark the language is evaluated on (test and dev) is consistent: every judged document is in
  its collection, every judged query is a query, every query has a relevant document. Its manifest is
  re-checked against the files: the prepared files are those the manifest describes, the user's files
  it was read from have not changed since, and every query read is accounted for (kept, or counted
  by the reason it was left out: `dropped`, below `min_relevance`, not sampled).
- The pool parses (file and line of a bad record) and is screened against the benchmarks' documents
  (:mod:`swimscale.data._overlap`); the screened pool, `validate/<code>/pool.jsonl`, is what training
  samples, and every size must fit in it (unless `cap_sizes`).

Every failure raises `InputError` (a ValueError) whose message starts with the file.
"""

from __future__ import annotations

import json
from pathlib import Path

from swimscale.data._overlap import OverlapIndex, screen_pool
from swimscale.data._records import (
    RECALL_DEPTH,
    iter_pool,
    read_corpus_ids,
    read_queries,
    sha256_of,
    small_corpus_warnings,
)
from swimscale.data._screened import screened_record
from swimscale.errors import InputError
from swimscale.formats import iter_qrels, write_text_atomic

# The reasons a query read from the source may be missing from the prepared benchmark (its manifest).
QUERY_ACCOUNTS = ("queries", "queries_lost", "queries_without_relevant", "queries_not_sampled")


def check_pool_file(path: Path, allow_empty: bool = False) -> None:
    """The pool exists and, unless `allow_empty` (a zero-data control: nothing to train), has records."""
    if not path.exists():
        raise InputError(f"{path}: pool file does not exist")
    if path.stat().st_size == 0 and not allow_empty:
        raise InputError(f"{path}: empty pool file (no records)")


def check_sizes_fit(path: Path, code: str, sizes: list[int], count: int, cap_sizes: bool) -> None:
    """Every size fits in the screened pool (unless `cap_sizes`: then a larger size trains on all of it)."""
    too_big = sorted(size for size in sizes if size > count)
    if too_big and not cap_sizes:
        raise InputError(
            f"config 'sizes' (or 'pools.{code}.sizes'): {', '.join(map(str, too_big))} larger than the {count} "
            f"records of language '{code}' in {path} (pools.{code}.cap_sizes: true trains on all of them instead)"
        )


def check_pool(path: Path, code: str, sizes: list[int], cap_sizes: bool) -> int:
    """Parses the pool (file and line of any bad record) and checks that every size fits in it."""
    path = Path(path)
    check_pool_file(path)
    try:
        count = sum(1 for _ in iter_pool(path, code=code))
    except ValueError as err:
        raise InputError(str(err)) from None
    check_sizes_fit(path, code, sizes, count, cap_sizes)
    return count


def check_benchmark(name: str, queries: Path, corpus: Path, qrels: Path) -> dict:
    """Every query has a relevant document; every judged document is in the corpus; every judged
    query is a query. Returns counts and {"relevant": the relevant docids}."""
    for path in (queries, corpus, qrels):
        if not Path(path).exists():
            raise InputError(f"benchmark '{name}': {path} does not exist")
        if Path(path).stat().st_size == 0:
            raise InputError(f"benchmark '{name}': {path} is empty")
    try:
        query_texts = read_queries(Path(queries))
        docids = read_corpus_ids(Path(corpus))
    except ValueError as err:
        raise InputError(str(err)) from None
    if not query_texts:
        raise InputError(f"{queries}: no queries")
    relevant, judgements, relevant_docs = check_qrels(Path(qrels), Path(queries), set(query_texts), Path(corpus), docids)
    for line_no, qid in enumerate(query_texts, 1):
        if qid not in relevant:
            raise InputError(
                f"{queries}: query '{qid}' (record {line_no}) has no relevant document in {qrels}; "
                "Recall would count it as 0 for every run"
            )
    counts = {"queries": len(query_texts), "documents": len(docids), "judgements": judgements}
    return {**counts, "relevant": relevant_docs}


def check_qrels(qrels: Path, queries: Path, qids: set[str], corpus: Path, docids: set[str]):
    """({qid: relevant documents}, judgements, relevant docids) of a qrels file (read by
    :func:`swimscale.formats.iter_qrels`'s rules) whose every line judges a query of `queries` and a
    document of `corpus`."""
    relevant: dict[str, int] = {}
    relevant_docs: set[str] = set()
    judgements = 0
    for qid, docid, rel_value, where in iter_qrels(qrels):
        if qid not in qids:
            raise InputError(f"{where}: query '{qid}' is not in {queries}")
        if docid not in docids:
            raise InputError(f"{where}: document '{docid}' is not in the corpus {corpus}")
        judgements += 1
        if rel_value > 0:
            relevant[qid] = relevant.get(qid, 0) + 1
            relevant_docs.add(docid)
    return relevant, judgements, relevant_docs


def recheck_manifest(name: str, manifest_path: Path, prepared: list[Path]) -> dict:
    """The benchmark's manifest against the files: what `dropped` and `warnings` it records, after
    checking that the prepared files are the ones it describes, that the user's files it was read from
    are unchanged, and that every query read is accounted for."""
    manifest = json.loads(Path(manifest_path).read_text(encoding="utf-8"))
    for path in prepared:
        recorded = manifest.get("files", {}).get(str(path))
        if recorded is not None and recorded != sha256_of(Path(path)):
            raise InputError(f"{path}: changed after benchmark '{name}' was prepared (its manifest {manifest_path} "
                             "records another checksum); re-run its preparation")
    for path, recorded in manifest.get("inputs", {}).items():
        if Path(path).is_file() and sha256_of(Path(path)) != recorded:
            raise InputError(f"{path}: changed since benchmark '{name}' was prepared from it; re-run its preparation "
                             f"(snakemake --forcerun {manifest_path})")
    counts = manifest.get("counts", {})
    if "queries_read" in counts:
        accounted = sum(counts.get(key, 0) for key in QUERY_ACCOUNTS)
        if accounted != counts["queries_read"]:
            raise InputError(f"{manifest_path}: {counts['queries_read']} queries read but {accounted} accounted for "
                             f"({', '.join(f'{k} {counts.get(k, 0)}' for k in QUERY_ACCOUNTS)})")
    return {"dropped": manifest.get("dropped", {}), "counts_at_prepare": counts}


def check_language(code: str, pool: Path, out_pool: Path, sizes: list[int], benchmarks: dict[str, dict],
                   cap_sizes: bool, overlap: str, near_duplicate_jaccard: float | None) -> dict:
    """Everything a language's training and evaluation read; `benchmarks`: name → {queries, qrels,
    corpus, manifest, role}. Writes the screened pool to `out_pool`; returns the report
    (results/validate/<code>/report.json). `sizes` are the trained sizes: none (a zero-data control)
    allows an empty pool. `near_duplicate_jaccard`: the near-duplicate screen's threshold (None: exact only).
    The report's `screened` ({benchmark: :func:`~swimscale.data.screened_record`}) is what the screen read of
    each benchmark; the validate rule writes it beside the report, for evaluation to check against."""
    report = {"language": code, "pool": str(pool), "validated_pool": str(out_pool), "sizes": sorted(sizes),
              "benchmarks": {}, "screened": {}}
    index = OverlapIndex(jaccard=near_duplicate_jaccard)
    by_collection: dict[str, dict[str, set[str]]] = {}
    for name, files in benchmarks.items():
        checked = check_benchmark(name, Path(files["queries"]), Path(files["corpus"]), Path(files["qrels"]))
        relevant = checked.pop("relevant")
        report["screened"][name] = screened_record(files, relevant)
        warnings = small_corpus_warnings(checked["documents"])
        report["benchmarks"][name] = {"role": files["role"], **checked, "small_corpus": checked["documents"] <= RECALL_DEPTH,
                                      "warnings": warnings,
                                      **recheck_manifest(name, Path(files["manifest"]), [Path(files["queries"]), Path(files["qrels"])])}
        by_collection.setdefault(str(files["corpus"]), {})[name] = relevant
        index.add_queries(name, read_queries(Path(files["queries"])))
    for corpus, relevant in by_collection.items():
        index.add_collection(Path(corpus), relevant)
    check_pool_file(Path(pool), allow_empty=not sizes)
    report["overlap"] = screen_pool(Path(pool), code, index, overlap, Path(out_pool), list(benchmarks))
    report["pool_records"] = report["overlap"]["pool_records_kept"]
    check_sizes_fit(Path(out_pool), code, sizes, report["pool_records"], cap_sizes)
    return report


def write_report(report: dict, path: Path) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(path, json.dumps(report, indent=1) + "\n")
