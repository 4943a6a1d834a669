"""The Bible benchmark (config `source: bible`): held-out books of the Chichewa–English Bible pairs.

It is written by the same job as the Bible training pool (rule `prepare_bible`,
:func:`swimscale.data.prepare_bible`), since both come from one split of the books; this module holds
its config-time check only.
"""

from __future__ import annotations

from swimscale.errors import InputError


def check(name: str, bench: dict) -> None:
    """The name is the one the `prepare_bible` rule writes: bible-<code>-en."""
    if name != f"bible-{bench['language']}-en":
        raise InputError(f"config 'benchmarks.{name}': a bible benchmark must be named bible-{bench['language']}-en")
