"""One entry of a source registry: what a pool or benchmark source needs from the config, how it is
checked when the DAG is built, which rule prepares it and with which function.

The registries are :data:`swimscale.data.POOL_SOURCES` (config `pools.<code>.source`) and
:data:`swimscale.data.benchmarks.SOURCES` (config `benchmarks.<name>.source`); the schema's `source`
enums list the same names (tests/data/test_registries.py checks).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from swimscale.errors import InputError


@dataclass(frozen=True)
class Source:
    """A pool or benchmark source.

    - `name`: the value of the config's `source` key.
    - `rule`: the Snakemake rule that prepares entries of this source (workflow/rules/prepare.smk).
    - `required`: {config key: what it holds} for keys the schema cannot require per source.
    - `input_files`: keys naming local input files (beyond any `path`), checked when the DAG is built.
    - `check(name, entry)`: further config-time checks of one validated entry (defaults filled in);
      raises InputError naming the key. Reads no data and no network: a dry run works offline.
    - `prepare`: a pool source's function, called by the `prepare_pool` rule's script (None for the
      Bible, whose one job writes a pool, its benchmarks and their collections).
    - `user_files(name, entry, data_dir)`: the user's files the entry's preparation reads, as far as
      they are on disk when the DAG is built (a local release, a pre-staged snapshot, TREC files): the
      rules declare them as inputs, so an edited file re-runs what depends on it. Stdlib, no parsing.

    Benchmark sources prepared by the `prepare_collection` and `prepare_benchmark` rules also give:

    - `read(name, bench, data_dir) -> Streams`: the benchmark's queries and judgements;
    - `documents(collection, members, data_dir) -> Documents`: the collection's documents;
    - `collection(name, bench) -> str`: the collection of a benchmark whose `collection` key is null;
    - `collection_keys`: the entry's keys that form its collection (benchmarks sharing a collection
      must agree on them, beside `source`, `corpus_size`, `seed` and `on_bad_judgement`);
    - `collection_files(bench, data_dir)`: like `user_files`, for the documents;
    - `min_relevance(bench) -> int`: the relevance threshold of an entry whose `min_relevance` is null.
    """

    name: str
    rule: str
    required: dict[str, str] = field(default_factory=dict)
    input_files: tuple[str, ...] = ()
    check: Callable[[str, dict], None] | None = None
    prepare: Callable[..., dict] | None = None
    user_files: Callable[[str, dict, object], list] | None = None
    read: Callable[..., object] | None = None
    documents: Callable[..., object] | None = None
    collection: Callable[[str, dict], str] | None = None
    collection_keys: tuple[str, ...] = ()
    collection_files: Callable[[dict, object], list] | None = None
    min_relevance: Callable[[dict], int] | None = None

    def check_entry(self, section: str, name: str, entry: dict) -> None:
        """The required keys, then `check`; `section` is `pools` or `benchmarks`."""
        for key, what in self.required.items():
            if not entry.get(key):
                hint = f" ({what})" if what else ""
                raise InputError(f"config '{section}.{name}.{key}': required for source {self.name}{hint}")
        if self.check is not None:
            self.check(name, entry)


def registry(*sources: Source) -> dict[str, Source]:
    """{name: source}, in the order given."""
    return {source.name: source for source in sources}
