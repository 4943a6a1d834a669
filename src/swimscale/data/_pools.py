"""The registry of training-pool sources (config `pools.<code>.source`) and the dispatch of the
`prepare_pool` rule through it.

Adding a pool source: a module in this subpackage that streams its records into our pool form, an
entry in :data:`POOL_SOURCES` (the rule that prepares it, the keys it requires, its config-time check,
its prepare function), and its name and keys, with their defaults, in the schema (`pools.<code>`).

Source `none` is a zero-data control: a language with a benchmark but no training data (XTREME-UP's
brx, gbm, hne and mwr have no SWIM-IR set). Its only size is N = 0, so its one row per benchmark says
what the teacher alone does on a language no training touches, beside the trained languages' N = 0
rows. Its prepared pool is an empty file with a manifest, so the validate stage still checks its
benchmarks and writes the report every language has.
"""

from __future__ import annotations

from pathlib import Path

from swimscale.data._bible import check_bible_pool
from swimscale.data._records import checksums, write_manifest
from swimscale.data._source import Source, registry
from swimscale.data._swimir import check_hf, check_local, prepare_swimir_pool, user_files
from swimscale.errors import InputError

def check_no_pool(code: str, pool: dict) -> None:
    """none: the language's only size is 0 (there is nothing to train on)."""
    if pool["sizes"] != [0]:
        raise InputError(f"config 'pools.{code}.sizes': source none (a zero-data control) has no training data, "
                         f"so its sizes must be [0], got {pool['sizes']}")


def prepare_no_pool(code: str, pool: dict, pool_path: Path, manifest_path: Path, sizes: list[int], data_dir) -> dict:
    """none: an empty pool file and its manifest (0 records; N = 0 only)."""
    if any(size > 0 for size in sizes):
        raise InputError(f"config 'pools.{code}.sizes': source none has no training data, so no size above 0 ({sizes})")
    pool_path.parent.mkdir(parents=True, exist_ok=True)
    pool_path.write_text("", encoding="utf-8")
    manifest = {"source": "none", "language": code, "input": "none (a zero-data control: N = 0 only)", "inputs": {},
                "counts": {"records_read": 0, "pool_records": 0},
                "sizes": {"asked": sorted(sizes), "effective": {"0": 0}, "capped": [], "cap_sizes": pool["cap_sizes"]},
                "files": checksums([pool_path])}
    return write_manifest(manifest_path, manifest)


POOL_SOURCES: dict[str, Source] = registry(
    # The Bible pool's job also writes its benchmark (rule prepare_bible, swimscale.data.prepare_bible).
    Source("bible", rule="prepare_bible", required={"language_name": ""}, check=check_bible_pool),
    Source("swimir_hf", rule="prepare_pool", check=check_hf, prepare=prepare_swimir_pool, user_files=user_files),
    Source(
        "swimir_local",
        rule="prepare_pool",
        required={"path": "the extracted SWIM-IR release"},
        check=check_local,
        prepare=prepare_swimir_pool,
        user_files=user_files,
    ),
    Source("none", rule="prepare_pool", check=check_no_pool, prepare=prepare_no_pool),
)


def prepare_pool(code: str, pool: dict, pool_path: Path, manifest_path: Path, sizes: list[int], data_dir) -> dict:
    """Prepares language `code`'s pool with its source's function; `pool` is the validated
    `pools.<code>` entry (the schema's defaults filled in). Returns the manifest."""
    source = POOL_SOURCES.get(pool["source"])
    if source is None or source.prepare is None:
        raise InputError(f"config 'pools.{code}.source': '{pool['source']}' is not prepared by prepare_pool")
    return source.prepare(code, pool, Path(pool_path), Path(manifest_path), sizes, data_dir)
