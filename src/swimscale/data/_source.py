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
    - `prepare`: the function the rule's script calls (None where the rule calls its own, e.g. the
      Bible, whose one job writes a pool and a benchmark).
    """

    name: str
    rule: str
    required: dict[str, str] = field(default_factory=dict)
    input_files: tuple[str, ...] = ()
    check: Callable[[str, dict], None] | None = None
    prepare: Callable[..., dict] | None = None

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
