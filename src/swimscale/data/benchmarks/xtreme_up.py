"""XTREME-UP's cross-language retrieval task (config `source: xtreme_up`), from its JSONL release
(`xtreme-up-v1.1.jsonl.tgz`, config key `url`): `retrieval_cross_lang/<split>/<lang>.jsonl` holds one
query per line (`id, title, context, question`: `question` in the language, `id` the gold English
passage's id, `title`/`context` that passage), and `retrieval_cross_lang/index.jsonl` (`id, title,
context`) the English passages of every language and split. The gold target is the passage `id` (as
XTREME-UP's own scorer does). Every language and split searches the one passage index: one collection,
`xtreme-up`, encoded once.

Which files exist: the official scorer reads the `validation` and `test` splits of the under-represented
languages only; that `test/<lang>.jsonl` exists for ar, fi, ko, ru and hi is not confirmed
(docs/full_study.md), so the full study does not rely on them.
"""

from __future__ import annotations

import shutil
import tarfile
import urllib.request
from pathlib import Path

from swimscale.data.benchmarks._write import Documents, Streams, file_lock, jsonl_objects
from swimscale.errors import DataMissingError, InputError
from swimscale.formats import atomic_open

TASK = "retrieval_cross_lang"
# The languages of the cross-language retrieval task (google-research/xtreme-up, evaluation/constants.py).
LANGUAGES = tuple(
    "ar bn fi ko ru te as bho brx gbm gom gu hi hne kn mai ml mni mr mwr or pa ps sa ta ur".split()
)


def check(name: str, bench: dict) -> None:
    """Config-time check: the task has the benchmark's language."""
    if bench["language"] not in LANGUAGES:
        raise InputError(
            f"config 'benchmarks.{name}.language': XTREME-UP's cross-language retrieval has no "
            f"'{bench['language']}' (it has {', '.join(LANGUAGES)})"
        )
    if bench.get("path") is not None:  # a release named in the config must hold the split asked for
        task = find_task(Path(bench["path"]).expanduser())
        if task is None:
            raise InputError(f"config 'benchmarks.{name}.path': no {TASK}/index.jsonl under {bench['path']}")
        if not queries_file(task, bench).is_file():
            raise InputError(f"config 'benchmarks.{name}.split': {queries_file(task, bench)} does not exist")


def find_task(root: Path) -> Path | None:
    """The `retrieval_cross_lang` folder at, in or one level below `root` (the tarball's top folder)."""
    for candidate in (root, root / TASK, *sorted(root.glob(f"*/{TASK}"))):
        if (candidate / "index.jsonl").is_file():
            return candidate
    return None


def fetch(data_dir: Path, url: str) -> Path:
    """Downloads the release once into `<data_dir>/xtreme-up/` and extracts the retrieval task only."""
    target = data_dir / "xtreme-up"
    with file_lock(target / ".lock"):
        found = find_task(target)
        if found is not None:
            return found
        archive = target / Path(url).name
        try:  # atomic: a download cut short leaves no archive (and no partial file)
            with urllib.request.urlopen(url, timeout=60) as response, atomic_open(archive, "wb") as out:
                shutil.copyfileobj(response, out, 1 << 20)
        except OSError as err:
            raise DataMissingError(f"could not download {url} ({err})") from None
        with tarfile.open(archive) as tar:
            # Only the retrieval task (the other tasks are most of the archive); "data" refuses unsafe paths.
            members = [m for m in tar.getmembers() if TASK in Path(m.name).parts]
            tar.extractall(target, members=members, filter="data")
        found = find_task(target)
        if found is None:
            raise DataMissingError(f"{archive} has no {TASK}/index.jsonl")
        return found


def missing_message(name: str, bench: dict, data_dir: Path, error: str) -> str:
    target = data_dir / "xtreme-up"
    return (
        f"benchmark '{name}': XTREME-UP data not available ({error}).\n"
        f"With internet the job downloads {bench['url']} itself. Without internet, download that file "
        f"elsewhere and extract it into {target}/ (so that {target}/xtreme_up_v1.1/{TASK}/{bench['split']}/"
        f"{bench['language']}.jsonl and .../{TASK}/index.jsonl exist), or set benchmarks.{name}.path to the "
        f"extracted folder."
    )


def find_release(name: str, bench: dict, data_dir: Path) -> Path:
    """The task folder of the release, downloading it when needed and possible."""
    try:
        if bench.get("path") is not None:  # optional key: no default, absent = the data_dir copy
            task = find_task(Path(bench["path"]).expanduser())
            if task is None:
                raise DataMissingError(f"no {TASK}/index.jsonl under {bench['path']}")
            return task
        return find_task(data_dir / "xtreme-up") or fetch(data_dir, bench["url"])
    except DataMissingError as err:
        raise DataMissingError(missing_message(name, bench, data_dir, str(err))) from None


def staged_task(bench: dict, data_dir) -> Path | None:
    """The task folder if the release is on disk (no download), else None: what the DAG can declare."""
    root = Path(bench["path"]).expanduser() if bench.get("path") is not None else Path(data_dir) / "xtreme-up"
    return find_task(root)


def queries_file(task: Path, bench: dict) -> Path:
    return task / bench["split"] / f"{bench['language']}.jsonl"


def user_files(name: str, bench: dict, data_dir) -> list[Path]:
    """The split's query file, when the release is on disk."""
    task = staged_task(bench, data_dir)
    return [queries_file(task, bench)] if task is not None and queries_file(task, bench).is_file() else []


def collection_files(bench: dict, data_dir) -> list[Path]:
    """The passage index, when the release is on disk."""
    task = staged_task(bench, data_dir)
    return [task / "index.jsonl"] if task is not None else []


def collection(name: str, bench: dict) -> str:
    """One passage index for every language and split: one collection."""
    return "xtreme-up"


def read(name: str, bench: dict, data_dir) -> Streams:
    """The queries of `<split>/<language>.jsonl`; each line's `id` is its gold passage (relevance 1)."""
    task = find_release(name, bench, Path(data_dir))
    file = queries_file(task, bench)
    if not file.is_file():
        have = sorted(p.relative_to(task).as_posix() for p in task.glob("*/*.jsonl"))[:40]
        raise DataMissingError(f"benchmark '{name}': {file} not found; the release has {', '.join(have) or 'no query files'}")
    lines = list(jsonl_objects(file, ("id", "question")))
    language, split = bench["language"], bench["split"]

    # qids are made from the line number: `id` is the gold passage's, and queries may share a passage.
    def queries():
        for n, (where, r) in enumerate(lines, 1):
            yield f"{language}-{split}-{n:06d}", r["question"], where

    def qrels():
        for n, (where, r) in enumerate(lines, 1):
            yield f"{language}-{split}-{n:06d}", r["id"], 1, where

    return Streams(queries(), qrels(), inputs={"queries": file}, info={"split": split, "queries_file": str(file)})


def documents(collection_name: str, members: dict[str, dict], data_dir) -> Documents:
    """`index.jsonl` (`id, title, context`) of the release the members name."""
    name, bench = sorted(members.items())[0]
    index = find_release(name, bench, Path(data_dir)) / "index.jsonl"

    def docs():
        for where, r in jsonl_objects(index, ("id", "context")):
            yield r["id"], r.get("title", ""), r["context"], where

    return Documents(docs, inputs={"index": index}, info={"index_file": str(index)})
