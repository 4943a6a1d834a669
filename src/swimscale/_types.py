"""Type aliases shared by the subpackages."""

from os import PathLike

StrPath = str | PathLike[str]
"""A file path given as a string or a path-like object."""
