"""Text files read line by line, as UTF-8, with each line's own number.

Every line-based format of swimscale (TREC runs and qrels, the queries TSV, JSONL corpora and pools)
is read through :func:`decoded_lines`: a file is decoded one line at a time, so bytes that are not
UTF-8 are reported with their line and column instead of a traceback from the middle of the file.
Blank lines are skipped but counted, so the numbers are the file's own line numbers.
"""

from __future__ import annotations

from collections.abc import Iterator

from swimscale._types import StrPath
from swimscale.errors import InputError
from swimscale.formats._limits import INTEGER


class ReadError(str):
    """Why a line could not be read -- its message, and its `kind`: `malformed_json` or `not_utf8`."""

    kind: str

    def __new__(cls, kind: str, message: str) -> "ReadError":
        error = super().__new__(cls, message)
        error.kind = kind
        return error


def utf8_error(raw: bytes, err: UnicodeDecodeError) -> ReadError:
    """`not valid UTF-8` with the column (characters, 1-based) and the offending byte."""
    column = len(raw[: err.start].decode("utf-8", errors="replace")) + 1
    return ReadError("not_utf8", f"not valid UTF-8 at column {column} (byte 0x{raw[err.start]:02x})")


def decoded_lines(path: StrPath) -> Iterator[tuple[int, str | None, ReadError | None]]:
    """(line number, line or None, ReadError or None) for every non-blank line, decoded line by line, so
    that bytes that are not UTF-8 are reported with their line and column (and can be skipped)."""
    with open(path, "rb") as handle:
        for line_no, raw in enumerate(handle, 1):
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as err:
                yield line_no, None, utf8_error(raw, err)
                continue
            if line.strip():
                yield line_no, line, None


def numbered_lines(path: StrPath) -> Iterator[tuple[int, str]]:
    """(line number, line) for every non-blank line of a UTF-8 text file, streamed; the numbers count
    the blank lines too, so they are the file's own line numbers. Bytes that are not UTF-8 stop with
    file, line and column (InputError)."""
    for line_no, line, error in decoded_lines(path):
        if error is not None:
            raise InputError(f"{path}: line {line_no}: {error}")
        yield line_no, line


def split_fields(path: StrPath, n_fields: int, layout: str) -> Iterator[tuple[str, list[str]]]:
    """(where, fields) of every non-blank line of a whitespace-separated file whose lines hold exactly
    `n_fields` fields (`layout` names them); `where` is ``"<path>: line <n>"``. A line with another
    count stops with its file and line, the count and the layout (InputError)."""
    for line_no, line in numbered_lines(path):
        fields, where = line.split(), f"{path}: line {line_no}"
        if len(fields) != n_fields:
            raise InputError(f"{where}: expected {n_fields} fields ({layout}), got {len(fields)}")
        yield where, fields


def integer_field(where: str, name: str, value: str) -> int:
    """`value` as an integer when it is one written in ASCII digits with an optional minus sign (see
    :data:`~swimscale.formats._limits.INTEGER`); else InputError naming `where` and the field."""
    if not INTEGER.fullmatch(value):
        raise InputError(f"{where}: {name} {value!r} is not an integer")
    return int(value)


def check_token(name: str, value: str) -> None:
    """A field of a whitespace-separated file: non-empty and without whitespace (else ValueError), so
    that it reads back as one field."""
    if not value or any(c.isspace() for c in value):
        raise ValueError(f"{name} {value!r} must be non-empty and contain no whitespace")
