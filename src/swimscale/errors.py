"""The two errors every part of swimscale raises for input a user can fix.

Job scripts and the command line turn them into one line that names the key, file, line or column at
fault, instead of a traceback.
"""


class InputError(ValueError):
    """Bad input found before or during work (a config key, a file, a line, a table column); the
    message names it."""


class DataMissingError(RuntimeError):
    """Input data that is neither on disk nor downloadable here; the message says what to fetch and where
    to put it."""
