"""Limits and patterns that more than one part of swimscale checks against, defined once.

* ``LANGUAGE_CODE``: a language code is two or three lower-case ASCII letters (ISO 639-1 or 639-3).
  Codes become directory names and Snakemake wildcards, so nothing that could leave the results
  directory (``..``, ``/``) or hide a file (``.x``) is one, nor is ``"ny\\n"``. ``LANGUAGE_CODE_PATTERN``
  is the same pattern without its anchors, for a Snakemake wildcard constraint or a JSON schema.
* ``MAX_UNDEFINED_SHARE``: a bootstrap statistic undefined (NaN) in more than this share of its
  resamples gets no interval -- a few undefined replicates can be left out, more would bias what is
  left towards the resamples where it happens to be defined. The query × seed bootstrap and the
  design-based seed interval use the same share.
* ``INTEGER``: how an integer field of a TREC file is written: an optional minus sign and ASCII digits
  (``int()`` would also take ``+1``, ``1_0`` and non-ASCII digits, which trec_eval does not read as
  numbers).
"""

from __future__ import annotations

import re

LANGUAGE_CODE_PATTERN = "[a-z]{2,3}"
LANGUAGE_CODE = re.compile(rf"^{LANGUAGE_CODE_PATTERN}\Z")  # \Z: `$` would also match before a final "\n"

MAX_UNDEFINED_SHARE = 0.05

INTEGER = re.compile(r"-?[0-9]+")
