"""The registry of training-pool sources (config `pools.<code>.source`) and the dispatch of the
`prepare_pool` rule through it.

Adding a pool source: a module in this subpackage that streams its records into our pool form, an
entry in :data:`POOL_SOURCES` (the rule that prepares it, the keys it requires, its config-time check,
its prepare function), and its name and keys, with their defaults, in the schema (`pools.<code>`).
"""

from __future__ import annotations

from pathlib import Path

from swimscale.data._bible import check_bible_pool
from swimscale.data._source import Source, registry
from swimscale.data._swimir import check_hf, check_local, prepare_swimir_pool, user_files
from swimscale.errors import InputError

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
)


def prepare_pool(code: str, pool: dict, pool_path: Path, manifest_path: Path, sizes: list[int], data_dir) -> dict:
    """Prepares language `code`'s pool with its source's function; `pool` is the validated
    `pools.<code>` entry (the schema's defaults filled in). Returns the manifest."""
    source = POOL_SOURCES.get(pool["source"])
    if source is None or source.prepare is None:
        raise InputError(f"config 'pools.{code}.source': '{pool['source']}' is not prepared by prepare_pool")
    return source.prepare(code, pool, Path(pool_path), Path(manifest_path), sizes, data_dir)
