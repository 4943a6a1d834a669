"""The Bible benchmarks (config `source: bible`): the test benchmark `bible-<code>-en` (test books) and
the dev benchmark `bible-<code>-en-dev` (dev books) of the Chichewa–English Bible pairs.

They are written by the same job as the Bible training pool (rule `prepare_bible`,
:func:`swimscale.data.prepare_bible`), since all three come from one split of the books; each searches
its own collection (named like the benchmark). This module holds their config-time check only.
"""

from __future__ import annotations

from swimscale.errors import InputError


def expected_name(bench: dict) -> str:
    return f"bible-{bench['language']}-en" + ("-dev" if bench["role"] == "dev" else "")


def check(name: str, bench: dict) -> None:
    """The name is the one the `prepare_bible` rule writes for the role; the collection is its own."""
    if name != expected_name(bench):
        raise InputError(
            f"config 'benchmarks.{name}': a bible benchmark of role {bench['role']} must be named {expected_name(bench)}"
        )
    if bench["collection"] not in (None, name):
        raise InputError(f"config 'benchmarks.{name}.collection': a bible benchmark searches its own collection ('{name}')")


def collection(name: str, bench: dict) -> str:
    return name
