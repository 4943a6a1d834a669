"""SWIM-IR training pools: from the Hugging Face Hub (through `datasets`) or from local files in the
original release layout, validated record by record and written, streamed, as our pool JSONL.

Sources (config `pools.<code>.source`):

- `swimir_hf`: `<dataset>` is a Hub id (`nthakur/swim-ir-cross-lingual`: one parquet config per
  language, `<code>/train-0000i-of-0000n.parquet`, ~900k pairs each; `nthakur/indic-swim-ir-cross-lingual`:
  the XTREME-UP Indic languages, a few thousand pairs each) or a local snapshot of such a repository
  (`huggingface-cli download ... --include '<code>/*' --local-dir`). A snapshot — `<dataset>` itself, or
  one under `<data_dir>/swimir/<repository name>` — is read directly, `<code>/*.parquet` or the
  `refs/convert/parquet` layout `<code>/train/*.parquet`, for any language, whatever the README lists
  (`datasets` cannot open a partial snapshot unless the language is the card's first config). Without a
  snapshot, `datasets.load_dataset(<dataset>, name=<code>, split="train")` reads the Hub, caching under
  `<data_dir>/huggingface`.
- `swimir_local`: the release tarball (`swim_ir_v1.tar.gz`) extracted: `<path>/<section>/<code>/train.jsonl`
  or `<path>/<section>/<code>.jsonl` (JSONL), or `<path>/<section>/<code>/*.parquet`; section
  `cross_lingual` (the 17 XOR-Retrieve/MIRACL languages) or `cross_lingual_ext` (the XTREME-UP languages).

Records keep SWIM-IR's schema (`_id, lang, code, query, title, text`): `query` in the language, `text`
the English Wikipedia passage it was generated from. They carry no `query_en`, so training transports
queries onto passages (semi-relaxed OT).
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from swimscale.data._records import (
    POOL_FIELDS,
    checksums,
    iter_jsonl_lines,
    package_versions,
    record_problem,
    write_manifest,
)
from swimscale.data._seen import SeenIds
from swimscale.errors import DataMissingError, InputError
from swimscale.formats import atomic_path

CROSS_LINGUAL = "nthakur/swim-ir-cross-lingual"
INDIC = "nthakur/indic-swim-ir-cross-lingual"
# Language configs of the two Hub datasets (their dataset cards, checked 2026-11).
HF_LANGUAGES = {
    CROSS_LINGUAL: ("ar", "bn", "de", "es", "fa", "fi", "fr", "hi", "id", "ja", "ko", "ru", "sw", "te", "th", "yo", "zh"),
    INDIC: ("as", "bho", "gom", "gu", "hi", "kn", "mai", "ml", "mni", "mr", "or", "pa", "ps", "sa", "ta", "ur"),
}
RELEASE_URL = "http://storage.googleapis.com/gresearch/swim-ir/swim_ir_v1.tar.gz"
SECTIONS = ("cross_lingual", "cross_lingual_ext")
BAD_RECORD_KINDS = (
    "malformed_json",
    "not_utf8",
    "not_an_object",
    "missing_field",
    "wrong_type",
    "empty_query",
    "empty_text",
    "wrong_code",
    "wrong_lang",
    "duplicate_id",
)
BATCH = 10_000


def snapshot_dir(dataset: str, data_dir: str | Path) -> Path | None:
    """A local snapshot of the dataset repository: `dataset` itself when it is a directory, else one
    pre-staged under `<data_dir>/swimir/<repository name>` (so a cluster without internet needs no config
    change), else None (the Hub)."""
    path = Path(dataset).expanduser()
    if path.is_dir():
        return path
    snapshot = Path(data_dir) / "swimir" / dataset.rstrip("/").split("/")[-1]
    return snapshot if snapshot.is_dir() else None


def snapshot_files(snapshot: Path, code: str) -> list[Path]:
    """A language's parquet shards in a snapshot, in either layout the Hub serves: `<code>/*.parquet`
    (`train-0000i-of-0000n.parquet`, the repository's own files) or `<code>/train/*.parquet` (the
    `refs/convert/parquet` branch, `0000.parquet`, ...). Read directly: `datasets.load_dataset` on a
    snapshot that holds only some languages fails unless the language is the card's first config."""
    return sorted((snapshot / code).glob("*.parquet")) or sorted((snapshot / code / "train").glob("*.parquet"))


def staging_command(dataset: str, code: str, snapshot: Path) -> str:
    return (
        f"  huggingface-cli download {dataset} --repo-type dataset --include '{code}/*' --local-dir {snapshot}\n"
        f"(or `hf download {dataset} --repo-type dataset --include '{code}/*' --local-dir {snapshot}`)"
    )


def hf_missing_message(dataset: str, code: str, data_dir: str | Path, error: str) -> str:
    name = dataset.rstrip("/").split("/")[-1]
    snapshot = Path(data_dir) / "swimir" / name
    return (
        f"SWIM-IR pool '{code}': could not load {dataset} (config '{code}'): {error}\n"
        f"With internet the job downloads it itself (cache: {Path(data_dir) / 'huggingface'}). Without internet, "
        f"on a machine that has it run\n{staging_command(dataset, code, snapshot)}\n"
        f"and copy {snapshot} to the same path here (data_dir = {data_dir}); its {code}/*.parquet files are then "
        f"read offline. Or use source: swimir_local with the release files ({RELEASE_URL})."
    )


def snapshot_records(dataset: str, code: str, snapshot: Path):
    """(description, rows) of a language's shards in a local snapshot; DataMissingError says what to stage."""
    files = snapshot_files(snapshot, code)
    if not files:
        have = sorted(p.name for p in snapshot.iterdir() if p.is_dir() and not p.name.startswith(".")) if snapshot.is_dir() else []
        hub_id = dataset if not Path(dataset).expanduser().is_dir() else f"nthakur/{snapshot.name}"
        raise DataMissingError(
            f"SWIM-IR pool '{code}': the snapshot {snapshot} has no {code}/*.parquet nor {code}/train/*.parquet "
            f"(languages in it: {', '.join(have) or 'none'}). On a machine with internet run\n"
            f"{staging_command(hub_id, code, snapshot)}\nand copy {snapshot / code} here."
        )

    def rows():
        for file in files:
            yield from parquet_rows(file)

    return f"{snapshot} ({code}: {', '.join(f.name for f in files)})", rows()


def hf_records(dataset: str, code: str, data_dir: str | Path, revision: str | None):
    """(description, iterator of (where, record, parse error)) over the `train` split of one language:
    from a local snapshot's parquet files when there is one, else from the Hub through `datasets`."""
    snapshot = snapshot_dir(dataset, data_dir)
    if snapshot is not None:
        return snapshot_records(dataset, code, snapshot)
    try:
        import datasets
    except ImportError as err:  # pragma: no cover - datasets is a pinned dependency
        raise DataMissingError(f"source swimir_hf needs the `datasets` package ({err})") from None
    try:
        table = datasets.load_dataset(
            dataset, name=code, split="train", revision=revision, cache_dir=str(Path(data_dir) / "huggingface")
        )
    except Exception as err:  # offline, unknown config, missing files: one message that says what to do
        first_line = (str(err).strip().splitlines() or [type(err).__name__])[0]
        raise DataMissingError(hf_missing_message(dataset, code, data_dir, f"{type(err).__name__}: {first_line}")) from None
    description = f"{dataset} (config {code}, split train)"

    def rows():
        row = 0
        for batch in table.iter(batch_size=BATCH):
            columns = list(batch)
            for i in range(len(batch[columns[0]]) if columns else 0):
                row += 1
                yield f"{description}: row {row}", {k: batch[k][i] for k in columns}, None

    return description, rows()


def user_files(code: str, pool: dict, data_dir) -> list[Path]:
    """The local files a pool is read from, for the rule's inputs: the release's files (swimir_local) or
    a snapshot's shards (swimir_hf); none for a Hub download."""
    if pool["source"] == "swimir_local":
        try:
            return local_files(pool["path"], pool["section"], code)
        except DataMissingError:
            return []  # the config check has said so, naming the key
    snapshot = snapshot_dir(pool["dataset"], data_dir)
    return snapshot_files(snapshot, code) if snapshot is not None else []


def local_candidates(path: str | Path, section: str, code: str) -> list[Path]:
    base = Path(path).expanduser() / section
    return [base / code / "train.jsonl", base / f"{code}.jsonl", base / code / "*.parquet"]


def local_files(path: str | Path, section: str, code: str) -> list[Path]:
    """The pool's files in the release layout; DataMissingError says where they were looked for."""
    jsonl_dir, jsonl_flat, parquet_glob = local_candidates(path, section, code)
    for candidate in (jsonl_dir, jsonl_flat):
        if candidate.is_file():
            return [candidate]
    parquets = sorted(parquet_glob.parent.glob(parquet_glob.name))
    if parquets:
        return parquets
    looked = "\n  ".join(str(c) for c in (jsonl_dir, jsonl_flat, parquet_glob))
    raise DataMissingError(
        f"SWIM-IR pool '{code}': no file in the release layout; looked for\n  {looked}\n"
        f"Download {RELEASE_URL}, extract it and set pools.{code}.path to the folder that holds "
        f"cross_lingual/ and cross_lingual_ext/ (section '{section}'), or put {code}'s records at {jsonl_dir}; "
        f"with internet, source: swimir_hf downloads them from the Hugging Face Hub."
    )


def parquet_rows(file: Path):
    import pyarrow.parquet as pq

    row = 0
    # pre_buffer (pyarrow's default) keeps every row group it has read in Arrow's memory pool: memory then
    # grows with the file (0.7 KB per record measured, perf/scale.py); without it, one row group at a time.
    for batch in pq.ParquetFile(file, pre_buffer=False).iter_batches(batch_size=BATCH):
        for record in batch.to_pylist():
            row += 1
            yield f"{file}: row {row}", record, None


def local_records(path: str | Path, section: str, code: str):
    files = local_files(path, section, code)

    def rows():
        for file in files:
            if file.suffix == ".parquet":
                yield from parquet_rows(file)
            else:
                for line_no, record, error in iter_jsonl_lines(file):
                    yield f"{file}: line {line_no}", record, error

    return ", ".join(str(f) for f in files), rows()


def check_sizes(code: str, sizes: list[int], available: int, cap: bool, description: str) -> dict[int, int]:
    """{asked size: size that will be trained on}. A size above what the pool has is an error naming
    the language, the size and the count, unless `cap` (then the whole pool is the sample)."""
    asked = sorted({int(s) for s in sizes if int(s) > 0})
    too_big = [s for s in asked if s > available]
    if too_big and not cap:
        raise ValueError(
            f"pool '{code}': size {too_big[-1]} asked, but {description} has only {available} usable records "
            f"for '{code}' (sizes above it: {', '.join(map(str, too_big))}). Lower pools.{code}.sizes (or the "
            f"global sizes), or set pools.{code}.cap_sizes: true to train on all {available} records instead."
        )
    return {s: min(s, available) for s in asked}


# --- config-time checks (swimscale.data.POOL_SOURCES) ----------------------------------------------


def check_hf(code: str, pool: dict) -> None:
    """swimir_hf: a known Hub dataset has the language (an unknown one, e.g. a local snapshot, is
    checked when the job loads it); a `dataset` that is a path names an existing folder."""
    known = HF_LANGUAGES.get(pool["dataset"])
    if known is not None and code not in known:
        raise InputError(f"config 'pools.{code}': {pool['dataset']} has no language '{code}' (it has {', '.join(known)})")
    dataset = pool["dataset"]
    first = Path(dataset).parts[0] if Path(dataset).parts else dataset
    looks_like_path = dataset.startswith((".", "/", "~")) or Path(first).expanduser().is_dir()
    if looks_like_path and not Path(dataset).expanduser().is_dir():  # a snapshot folder, mistyped or absent
        raise InputError(f"config 'pools.{code}.dataset': snapshot folder '{dataset}' does not exist "
                         "(relative paths start at the working directory)")


def check_local(code: str, pool: dict) -> None:
    """swimir_local: the language's file exists in the extracted release and is not empty."""
    try:
        files = local_files(pool["path"], pool["section"], code)
    except DataMissingError as err:  # where it looked, what to download
        raise InputError(f"config 'pools.{code}.path': {err}") from None
    for file in files:
        if file.stat().st_size == 0:
            raise InputError(f"config 'pools.{code}.path': {file} is empty")


# --- prepare_swimir_pool and its phases ------------------------------------------------------------


@dataclass
class PoolTally:
    """What writing a pool saw: records read and written, skipped ones by kind, with a few examples."""

    read: int = 0
    written: int = 0
    skipped: Counter = field(default_factory=Counter)
    examples: dict[str, list[str]] = field(default_factory=dict)

    def skip(self, kind: str, message: str) -> None:
        self.skipped[kind] += 1
        examples = self.examples.setdefault(kind, [])
        if len(examples) < 3:
            examples.append(message)


def prepare_swimir_pool(code: str, pool: dict, pool_path: Path, manifest_path: Path, sizes: list[int], data_dir) -> dict:
    """Streams one language's SWIM-IR records into `pool_path`, validating each one; `pool` is the
    validated `pools.<code>` config entry (source swimir_hf or swimir_local, the schema's defaults filled
    in); every size of `sizes` is checked against the pool. Returns the manifest.

    A bad record (malformed JSON, missing field, empty query/text, wrong code or lang, duplicate _id)
    stops with its file, line (or row) and reason; with on_bad_record = "skip" it is left out and
    counted by reason in the manifest, with the first few locations. The pool is written atomically
    (:func:`swimscale.formats.atomic_path`) and renamed only when every check passed, so a failed job leaves
    no pool behind.
    """
    if pool["on_bad_record"] not in ("stop", "skip"):
        raise ValueError(f"config 'pools.{code}.on_bad_record': must be 'stop' or 'skip', got '{pool['on_bad_record']}'")
    description, rows = open_records(code, pool, data_dir)
    pool_path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(pool_path) as partial:
        tally = write_records(rows, code, pool, partial)
        if tally.written == 0:
            raise ValueError(
                f"{description}: no usable records for '{code}' ({tally.read} read, {sum(tally.skipped.values())} skipped)"
            )
        effective = check_sizes(code, sizes, tally.written, pool["cap_sizes"], description)
    inputs = checksums(user_files(code, pool, data_dir))
    return write_manifest(manifest_path, pool_manifest(code, pool, description, tally, effective, pool_path, inputs))


def open_records(code: str, pool: dict, data_dir) -> tuple[str, object]:
    """(description of the input, iterator of (where, record, parse error)) of the pool's source."""
    if pool["source"] == "swimir_hf":
        return hf_records(pool["dataset"], code, data_dir, pool["revision"])
    if pool["source"] == "swimir_local":
        if pool.get("path") is None:  # optional key: no default
            raise ValueError(f"config 'pools.{code}.path': required for source swimir_local")
        if pool["section"] not in SECTIONS:
            raise ValueError(f"config 'pools.{code}.section': '{pool['section']}' is not one of {', '.join(SECTIONS)}")
        return local_records(pool["path"], pool["section"], code)
    raise ValueError(f"unknown SWIM-IR source '{pool['source']}'")


def write_records(rows, code: str, pool: dict, out_path: Path) -> PoolTally:
    """Writes the good records to `out_path` in our pool form; a bad one stops (on_bad_record: stop) or
    is counted and left out (skip)."""
    tally = PoolTally()
    seen = SeenIds()
    with open(out_path, "w", encoding="utf-8") as out:
        for where, record, error in rows:
            tally.read += 1
            if error is not None:  # a ReadError: malformed JSON, or bytes that are not UTF-8
                problem = (error.kind, str(error))
            else:
                problem = record_problem(record, code, pool.get("language_name"), seen, where.rsplit(": ", 1)[-1])
            if problem is not None:
                if pool["on_bad_record"] == "stop":
                    raise ValueError(
                        f"{where}: {problem[1]} (set pools.{code}.on_bad_record: skip to leave such records out, counted)"
                    )
                tally.skip(problem[0], f"{where}: {problem[1]}")
                continue
            row = {field: record[field] for field in POOL_FIELDS}  # strings: record_problem checked
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
            tally.written += 1
    return tally


def pool_manifest(code: str, pool: dict, description: str, tally: PoolTally, effective: dict, pool_path: Path,
                  inputs: dict) -> dict:
    return {
        "source": pool["source"],
        "language": code,
        "input": description,
        "inputs": inputs,
        "dataset": pool["dataset"] if pool["source"] == "swimir_hf" else None,
        "revision": pool["revision"],
        "on_bad_record": pool["on_bad_record"],
        "counts": {
            "records_read": tally.read,
            "pool_records": tally.written,
            "skipped": {kind: tally.skipped.get(kind, 0) for kind in BAD_RECORD_KINDS},
            "skipped_total": sum(tally.skipped.values()),
        },
        "skipped_examples": tally.examples,
        "sizes": {
            "asked": sorted(effective),
            "effective": {str(k): v for k, v in sorted(effective.items())},
            "capped": sorted(k for k, v in effective.items() if v < k),
            "cap_sizes": pool["cap_sizes"],
        },
        "files": checksums([pool_path]),
        "packages": package_versions(["datasets", "pyarrow"]),
    }
