"""Zero-shot benchmarks (queries in a language L, an English corpus, TREC qrels), each written in the
normalised form every later stage reads: `queries.tsv` (`qid<TAB>text`), `corpus.jsonl`
(`docid, title, text`) and `qrels.txt` (`qid 0 docid rel`), plus a manifest.

Sources (config `benchmarks.<name>.source`):

- `xtreme_up`: XTREME-UP's cross-language retrieval task, from its JSONL release
  (`xtreme-up-v1.1.jsonl.tgz`): `retrieval_cross_lang/<split>/<lang>.jsonl` holds one query per line
  (`id, title, context, question`: `question` in L, `id` the gold English passage's id, `title`/`context`
  that passage), and `retrieval_cross_lang/index.jsonl` (`id, title, context`) the English passages of
  every language and split. The gold target is the passage `id` (as XTREME-UP's own scorer does).
- `ir_datasets`: any ir_datasets id with queries and qrels (e.g. `clirmatrix/en/bi139-base/yo/test1`:
  English documents, Yoruba queries — CLIRMatrix ids name the document language first),
  read through ir_datasets' own `queries_iter`, `qrels_iter` and `docs_iter`.
- `trec`: local files already in our form (queries TSV, corpus JSONL, TREC qrels).

Large corpora (CLIRMatrix's English Wikipedia) can be cut to `corpus_size` documents: every judged
document plus a seeded sample of the others, chosen while streaming (memory holds the kept documents
only); `max_queries` keeps a seeded sample of the queries. Both are recorded in the manifest.
"""

from __future__ import annotations

import contextlib
import heapq
import json
import os
import shutil
import tarfile
import urllib.request
from collections import Counter
from pathlib import Path
from typing import Callable, Iterable, Iterator

from swimscale.data._records import iter_jsonl_lines, normalise_text, package_versions, sha256_of
from swimscale.data._sampling import sample_rank
from swimscale.errors import DataMissingError

XTREME_UP_URL = "https://storage.googleapis.com/xtreme-up/xtreme-up-v1.1.jsonl.tgz"
XTREME_UP_TASK = "retrieval_cross_lang"


@contextlib.contextmanager
def file_lock(path: Path):
    """An exclusive lock across processes: several benchmark jobs share one download."""
    import fcntl

    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


# --- the normalised form ---------------------------------------------------------------------------


def _clean(text, where: str, what: str) -> str:
    text = normalise_text(str(text if text is not None else ""))
    if not text:
        raise ValueError(f"{where}: empty {what}")
    return text


def write_benchmark(
    queries: Iterable[tuple[str, str, str]],
    qrels: Iterable[tuple[str, str, int, str]],
    docs: Callable[[], Iterator[tuple[str, str, str, str]]],
    queries_path: Path,
    corpus_path: Path,
    qrels_path: Path,
    corpus_size: int | None = None,
    max_queries: int | None = None,
    seed: int = 0,
) -> dict:
    """Writes the three files; returns counts. `queries` yields (qid, text, where), `qrels` (qid, docid,
    relevance, where), `docs()` (docid, title, text, where) — `where` names file and line for errors.

    Only queries with at least one relevant (relevance > 0) judgement are kept (Recall has no meaning
    for the others); judgements of documents missing from the corpus are dropped; both are counted.
    """
    query_text: dict[str, str] = {}
    for qid, text, where in queries:
        qid = str(qid).strip()
        if not qid or any(c.isspace() for c in qid):
            raise ValueError(f"{where}: query id '{qid}' is empty or has whitespace")
        if qid in query_text:
            raise ValueError(f"{where}: duplicate query id '{qid}'")
        query_text[qid] = _clean(text, where, "query text")
    judgements: dict[str, dict[str, int]] = {}
    counts = Counter(queries_read=len(query_text))
    for qid, docid, rel, where in qrels:
        qid, docid = str(qid), str(docid)
        if any(c.isspace() for c in docid) or not docid:
            raise ValueError(f"{where}: document id '{docid}' is empty or has whitespace")
        if qid not in query_text:
            counts["qrels_unknown_query"] += 1
            continue
        judgements.setdefault(qid, {})[docid] = max(int(rel), judgements.get(qid, {}).get(docid, int(rel)))
    kept = [q for q in query_text if any(r > 0 for r in judgements.get(q, {}).values())]
    counts["queries_without_relevant"] = len(query_text) - len(kept)
    if max_queries is not None and max_queries < len(kept):
        chosen = set(heapq.nsmallest(max_queries, kept, key=lambda q: sample_rank(seed, q)))
        kept = [q for q in kept if q in chosen]
    judged = {d for q in kept for d in judgements[q]}

    # One pass over the documents: every judged one, plus the others (all, or a seeded sample).
    keep_judged: dict[str, tuple[int, str, str]] = {}
    others: list = []  # all others, or a max-heap (negated rank) of the sampled ones
    # Judged documents missing from the corpus are known only at the end: sample up to corpus_size
    # others now, keep the lowest ranks that fit at the end.
    budget = corpus_size
    seen: set[str] = set()
    for position, (docid, title, text, where) in enumerate(docs()):
        docid = str(docid)
        if docid in seen:
            counts["duplicate_docids"] += 1  # XTREME-UP v1.0's index had a few; the first copy is kept
            continue
        seen.add(docid)
        title = normalise_text(str(title or ""))
        text = normalise_text(str(text or ""))
        if not text and not title:
            counts["empty_documents"] += 1
            continue
        counts["documents_read"] += 1
        if docid in judged:
            keep_judged[docid] = (position, title, text)
        elif budget is None:
            others.append((position, docid, title, text))
        elif budget > 0:
            rank = sample_rank(seed, docid)
            item = (tuple(-b for b in rank), position, docid, title, text)
            if len(others) < budget:
                heapq.heappush(others, item)
            elif item > others[0]:
                heapq.heapreplace(others, item)
    if budget is not None:
        room = max(0, budget - len(keep_judged))
        others = [(position, docid, title, text) for _, position, docid, title, text in heapq.nlargest(room, others)]
    missing = judged - set(keep_judged)
    counts["judged_documents_missing"] = len(missing)
    if missing:
        for q in kept:
            judgements[q] = {d: r for d, r in judgements[q].items() if d not in missing}
        before = len(kept)
        kept = [q for q in kept if any(r > 0 for r in judgements[q].values())]
        counts["queries_lost_with_missing_documents"] = before - len(kept)
    if not kept:
        raise ValueError("no query has a relevant document in the corpus")
    corpus = sorted([(p, d, t, x) for d, (p, t, x) in keep_judged.items()] + others)

    for path in (queries_path, corpus_path, qrels_path):
        path.parent.mkdir(parents=True, exist_ok=True)
    with open(queries_path, "w", encoding="utf-8") as handle:
        for q in kept:
            handle.write(f"{q}\t{query_text[q]}\n")
    with open(corpus_path, "w", encoding="utf-8") as handle:
        for _, docid, title, text in corpus:
            handle.write(json.dumps({"docid": docid, "title": title, "text": text}, ensure_ascii=False) + "\n")
    n_qrels = 0
    with open(qrels_path, "w", encoding="utf-8") as handle:
        for q in kept:
            for docid, rel in judgements[q].items():
                handle.write(f"{q} 0 {docid} {rel}\n")
                n_qrels += 1
    counts.update(queries=len(kept), corpus_documents=len(corpus), qrels=n_qrels)
    return dict(sorted(counts.items()))


def finish_manifest(manifest_path: Path, info: dict, counts: dict, paths: Iterable[Path], packages: list[str]) -> dict:
    manifest = {
        **info,
        "counts": counts,
        "files": {str(p): sha256_of(p) for p in paths},
        "packages": package_versions(packages),
    }
    manifest_path.parent.mkdir(parents=True, exist_ok=True)
    manifest_path.write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return manifest


def _jsonl_objects(path: Path, fields: tuple[str, ...]):
    """(where, record) per line; malformed JSON or a missing field stops with file, line and reason."""
    for line_no, record, error in iter_jsonl_lines(path):
        where = f"{path}: line {line_no}"
        if error is not None:
            raise ValueError(f"{where}: {error}")
        if not isinstance(record, dict):
            raise ValueError(f"{where}: expected a JSON object")
        missing = [f for f in fields if f not in record]
        if missing:
            raise ValueError(f"{where}: missing field(s) {', '.join(missing)}")
        yield where, record


# --- XTREME-UP -------------------------------------------------------------------------------------


def find_xtreme_up_task(root: Path) -> Path | None:
    """The `retrieval_cross_lang` folder at, in or one level below `root` (the tarball's top folder)."""
    for candidate in (root, root / XTREME_UP_TASK, *sorted(root.glob(f"*/{XTREME_UP_TASK}"))):
        if (candidate / "index.jsonl").is_file():
            return candidate
    return None


def fetch_xtreme_up(data_dir: Path, url: str) -> Path:
    """Downloads the release once into `<data_dir>/xtreme-up/` and extracts the retrieval task only."""
    target = data_dir / "xtreme-up"
    with file_lock(target / ".lock"):
        found = find_xtreme_up_task(target)
        if found is not None:
            return found
        archive = target / Path(url).name
        partial = archive.with_name(archive.name + ".part")
        try:
            with urllib.request.urlopen(url, timeout=60) as response, open(partial, "wb") as out:
                shutil.copyfileobj(response, out, 1 << 20)
        except OSError as err:
            partial.unlink(missing_ok=True)
            raise DataMissingError(f"could not download {url} ({err})") from None
        os.replace(partial, archive)
        with tarfile.open(archive) as tar:
            # Only the retrieval task (the other tasks are most of the archive); "data" refuses unsafe paths.
            members = [m for m in tar.getmembers() if XTREME_UP_TASK in Path(m.name).parts]
            tar.extractall(target, members=members, filter="data")
        found = find_xtreme_up_task(target)
        if found is None:
            raise DataMissingError(f"{archive} has no {XTREME_UP_TASK}/index.jsonl")
        return found


def xtreme_up_missing(name: str, language: str, split: str, data_dir: Path, error: str) -> str:
    target = data_dir / "xtreme-up"
    return (
        f"benchmark '{name}': XTREME-UP data not available ({error}).\n"
        f"With internet the job downloads {XTREME_UP_URL} itself. Without internet, download that file "
        f"elsewhere and extract it into {target}/ (so that {target}/xtreme_up_v1.1/{XTREME_UP_TASK}/{split}/"
        f"{language}.jsonl and .../{XTREME_UP_TASK}/index.jsonl exist), or set benchmarks.{name}.path to the "
        f"extracted folder."
    )


def xtreme_up_sources(name: str, language: str, split: str, data_dir: Path, path: str | None, url: str):
    """(task folder, queries file) of the release, downloading it when needed and possible."""
    try:
        if path is not None:
            task = find_xtreme_up_task(Path(path).expanduser())
            if task is None:
                raise DataMissingError(f"no {XTREME_UP_TASK}/index.jsonl under {path}")
        else:
            task = find_xtreme_up_task(data_dir / "xtreme-up") or fetch_xtreme_up(data_dir, url)
    except DataMissingError as err:
        raise DataMissingError(xtreme_up_missing(name, language, split, data_dir, str(err))) from None
    queries = task / split / f"{language}.jsonl"
    if not queries.is_file():
        have = sorted(p.relative_to(task).as_posix() for p in task.glob("*/*.jsonl"))[:40]
        raise DataMissingError(
            f"benchmark '{name}': {queries} not found; the release has {', '.join(have) or 'no query files'}"
        )
    return task, queries


def prepare_xtreme_up(
    name: str,
    language: str,
    queries_path: Path,
    corpus_path: Path,
    qrels_path: Path,
    manifest_path: Path,
    split: str = "test",
    data_dir: str | Path = "data",
    path: str | None = None,
    url: str = XTREME_UP_URL,
    corpus_size: int | None = None,
    max_queries: int | None = None,
    seed: int = 0,
) -> dict:
    task, queries_file = xtreme_up_sources(name, language, split, Path(data_dir), path, url)
    lines = list(_jsonl_objects(queries_file, ("id", "question")))

    # qids are made from the line number: `id` is the gold passage's, and queries may share a passage.
    def queries():
        for n, (where, r) in enumerate(lines, 1):
            yield f"{language}-{split}-{n:06d}", r["question"], where

    def qrels():
        for n, (where, r) in enumerate(lines, 1):
            yield f"{language}-{split}-{n:06d}", r["id"], 1, where

    def docs():
        for where, r in _jsonl_objects(task / "index.jsonl", ("id", "context")):
            yield r["id"], r.get("title", ""), r["context"], where

    counts = write_benchmark(
        queries(), qrels(), docs, queries_path, corpus_path, qrels_path, corpus_size, max_queries, seed
    )
    info = {
        "source": "xtreme_up",
        "benchmark": name,
        "language": language,
        "split": split,
        "queries_file": str(queries_file),
        "index_file": str(task / "index.jsonl"),
        "corpus_size": corpus_size,
        "max_queries": max_queries,
        "seed": seed,
    }
    return finish_manifest(manifest_path, info, counts, (queries_path, corpus_path, qrels_path), [])


# --- ir_datasets -----------------------------------------------------------------------------------


def ir_datasets_home(data_dir: str | Path) -> Path:
    """IR_DATASETS_HOME if the user set it, else `<data_dir>/ir_datasets` (read by ir_datasets at import)."""
    return Path(os.environ.get("IR_DATASETS_HOME") or Path(data_dir) / "ir_datasets")


def _first_line(err: BaseException) -> str:
    return f"{type(err).__name__}: {(str(err).strip().splitlines() or [''])[0]}"


def ir_datasets_missing(name: str, dataset_id: str, home: Path, error: str) -> str:
    return (
        f"benchmark '{name}': ir_datasets could not provide '{dataset_id}' ({error}).\n"
        f"With internet the job downloads it into {home}. Without internet, on a machine that has it run\n"
        f"  IR_DATASETS_HOME={home} ir_datasets export {dataset_id} queries > /dev/null\n"
        f"  IR_DATASETS_HOME={home} ir_datasets export {dataset_id} qrels > /dev/null\n"
        f"  IR_DATASETS_HOME={home} ir_datasets export {dataset_id} docs > /dev/null\n"
        f"and copy {home} to the same path here (or point IR_DATASETS_HOME at the copy)."
    )


def prepare_ir_datasets(
    name: str,
    language: str,
    dataset_id: str,
    queries_path: Path,
    corpus_path: Path,
    qrels_path: Path,
    manifest_path: Path,
    data_dir: str | Path = "data",
    corpus_size: int | None = None,
    max_queries: int | None = None,
    seed: int = 0,
) -> dict:
    home = ir_datasets_home(data_dir)
    os.environ["IR_DATASETS_HOME"] = str(home)  # before the import: ir_datasets reads it then
    import ir_datasets

    # Loading (some datasets fetch an index of their files then) and the first item of each iterator
    # trigger the downloads: under one lock, so that several benchmark jobs sharing a corpus
    # (CLIRMatrix's English Wikipedia) download it once.
    with file_lock(home / ".swimscale.lock"):
        try:
            dataset = ir_datasets.load(dataset_id)
        except KeyError as err:
            raise ValueError(
                f"config 'benchmarks.{name}.id': ir_datasets cannot load '{dataset_id}' (KeyError: {err}); "
                "CLIRMatrix ids are clirmatrix/<document language>/<bi139-base|bi139-full|multi8>/<query language>/<split>"
            ) from None
        except Exception as err:  # offline: say what to fetch
            raise DataMissingError(ir_datasets_missing(name, dataset_id, home, _first_line(err))) from None
        for part in ("queries", "qrels", "docs"):
            if not getattr(dataset, f"has_{part}")():
                raise ValueError(f"config 'benchmarks.{name}.id': '{dataset_id}' has no {part}")
        try:
            for part in ("queries", "qrels", "docs"):
                next(iter(getattr(dataset, f"{part}_iter")()), None)
        except Exception as err:  # offline or instructions-only sources: say what to fetch
            raise DataMissingError(ir_datasets_missing(name, dataset_id, home, _first_line(err))) from None

    def queries():
        for n, q in enumerate(dataset.queries_iter(), 1):
            yield q.query_id, q.default_text() if hasattr(q, "default_text") else q.text, f"{dataset_id} queries: item {n}"

    def qrels():
        for n, r in enumerate(dataset.qrels_iter(), 1):
            yield r.query_id, r.doc_id, r.relevance, f"{dataset_id} qrels: item {n}"

    def docs():
        for n, d in enumerate(dataset.docs_iter(), 1):
            title = getattr(d, "title", "") or ""
            text = getattr(d, "text", None) or getattr(d, "body", None)
            if text is None:
                text = d.default_text()
            yield d.doc_id, title, text, f"{dataset_id} docs: item {n}"

    counts = write_benchmark(
        queries(), qrels(), docs, queries_path, corpus_path, qrels_path, corpus_size, max_queries, seed
    )
    info = {
        "source": "ir_datasets",
        "benchmark": name,
        "language": language,
        "id": dataset_id,
        "ir_datasets_home": str(home),
        "corpus_size": corpus_size,
        "max_queries": max_queries,
        "seed": seed,
    }
    return finish_manifest(manifest_path, info, counts, (queries_path, corpus_path, qrels_path), ["ir-datasets"])


# --- local TREC-style files ------------------------------------------------------------------------


def _trec_queries(path: Path):
    with open(path, encoding="utf-8") as handle:
        for line_no, line in enumerate(handle, 1):
            if not line.strip():
                continue
            parts = line.rstrip("\n").split("\t")
            if len(parts) != 2:
                raise ValueError(f"{path}: line {line_no}: expected 'qid<TAB>text'")
            yield parts[0], parts[1], f"{path}: line {line_no}"


def _trec_qrels(path: Path):
    with open(path, encoding="utf-8") as handle:
        for line_no, line in enumerate(handle, 1):
            if not line.strip():
                continue
            parts = line.split()
            if len(parts) != 4 or not parts[3].lstrip("-").isdigit():
                raise ValueError(f"{path}: line {line_no}: expected 'qid 0 docid relevance'")
            yield parts[0], parts[2], int(parts[3]), f"{path}: line {line_no}"


def prepare_trec(
    name: str,
    language: str,
    queries: str | Path,
    corpus: str | Path,
    qrels: str | Path,
    queries_path: Path,
    corpus_path: Path,
    qrels_path: Path,
    manifest_path: Path,
    corpus_size: int | None = None,
    max_queries: int | None = None,
    seed: int = 0,
) -> dict:
    sources = {"queries": Path(queries).expanduser(), "corpus": Path(corpus).expanduser(), "qrels": Path(qrels).expanduser()}
    absent = [f"benchmarks.{name}.{k}: {p}" for k, p in sources.items() if not p.is_file()]
    if absent:
        raise DataMissingError(
            f"benchmark '{name}': file(s) not found: {'; '.join(absent)}. Put the queries TSV (qid<TAB>text), the "
            f"corpus JSONL (docid, title, text) and the TREC qrels (qid 0 docid rel) there, or fix the paths."
        )

    def docs():
        for where, r in _jsonl_objects(sources["corpus"], ("docid", "text")):
            yield r["docid"], r.get("title", ""), r["text"], where

    counts = write_benchmark(
        _trec_queries(sources["queries"]),
        _trec_qrels(sources["qrels"]),
        docs,
        queries_path,
        corpus_path,
        qrels_path,
        corpus_size,
        max_queries,
        seed,
    )
    info = {
        "source": "trec",
        "benchmark": name,
        "language": language,
        **{f"{k}_file": str(p) for k, p in sources.items()},
        "corpus_size": corpus_size,
        "max_queries": max_queries,
        "seed": seed,
    }
    return finish_manifest(manifest_path, info, counts, (queries_path, corpus_path, qrels_path), [])


def prepare_benchmark(name: str, settings: dict, queries_path, corpus_path, qrels_path, manifest_path, data_dir="data") -> dict:
    """Dispatches on `settings["source"]` (a `benchmarks.<name>` config entry)."""
    paths = dict(
        queries_path=Path(queries_path),
        corpus_path=Path(corpus_path),
        qrels_path=Path(qrels_path),
        manifest_path=Path(manifest_path),
    )
    common = dict(
        corpus_size=settings.get("corpus_size"),
        max_queries=settings.get("max_queries"),
        seed=settings.get("seed", 0),
    )
    source = settings["source"]
    if source == "xtreme_up":
        return prepare_xtreme_up(
            name,
            settings["language"],
            split=settings.get("split", "test"),
            data_dir=data_dir,
            path=settings.get("path"),
            url=settings.get("url", XTREME_UP_URL),
            **paths,
            **common,
        )
    if source == "ir_datasets":
        return prepare_ir_datasets(name, settings["language"], settings["id"], data_dir=data_dir, **paths, **common)
    if source == "trec":
        return prepare_trec(
            name, settings["language"], settings["queries"], settings["corpus"], settings["qrels"], **paths, **common
        )
    raise ValueError(f"config 'benchmarks.{name}.source': '{source}' is not prepared by prepare_benchmark")
