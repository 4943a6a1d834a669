"""Measured moderators of a (language, test benchmark): what the analysis may use to explain why the
curve of Recall@50 against N differs between languages, measured rather than assumed.

- **fertility**: the teacher tokenizer's subword tokens per whitespace-separated word, over the
  benchmark's queries (``tokenizer.tokenize``, no special tokens). A language the vocabulary covers
  poorly is cut into many short pieces (mBERT on Latin-script English: ~1.2–1.4; on scripts it hardly
  saw: 3 or more). Scripts written without spaces (Chinese, Japanese, Thai) have few "words", so their
  fertility is high for another reason: compare it within a script.
- **unk_rate**: the fraction of those subword tokens that are the tokenizer's unknown token (``[UNK]``
  for mBERT): text the teacher cannot see at all.
- **script**: the language's script from config/languages.tsv (ISO 15924), and ``script_detected``: the
  Unicode script most of the queries' letters belong to (the first word of each letter's Unicode name,
  e.g. DEVANAGARI, LATIN, CJK), which checks the table against the data.
- **zero_shot_recall_at_50**: the untrained student's (N = 0) Recall@50 on the benchmark, from its
  metrics file: the level each curve starts from.

The tokenizer is anything with ``tokenize`` and ``unk_token`` (a Hugging Face tokenizer); the module
itself imports the standard library only.
"""

from __future__ import annotations

import csv
import json
import unicodedata
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

COLUMNS = ["language", "benchmark", "script", "script_detected", "n_queries", "n_words", "n_subwords",
           "fertility", "unk_rate", "zero_shot_recall_at_50", "tokenizer"]


def tokenizer_stats(tokenizer, texts: Iterable[str]) -> dict:
    """{n_words, n_subwords, fertility, unk_rate} of `texts` under `tokenizer` (NaN without words)."""
    words = subwords = unknown = 0
    unk = getattr(tokenizer, "unk_token", None)
    for text in texts:
        words += len(text.split())
        pieces = tokenizer.tokenize(text)
        subwords += len(pieces)
        unknown += sum(piece == unk for piece in pieces) if unk is not None else 0
    nan = float("nan")
    return {"n_words": words, "n_subwords": subwords, "fertility": subwords / words if words else nan,
            "unk_rate": unknown / subwords if subwords else nan}


def script_of_char(char: str) -> str | None:
    """The Unicode script of a letter, as the first word of its Unicode name (None for non-letters)."""
    if not unicodedata.category(char).startswith("L"):
        return None
    name = unicodedata.name(char, "")
    return name.split(" ")[0] if name else None


def dominant_script(texts: Iterable[str]) -> str:
    """The script most letters of `texts` belong to ('' without letters)."""
    counts = Counter(script for text in texts for script in map(script_of_char, text) if script)
    return counts.most_common(1)[0][0] if counts else ""


def read_queries(path: Path) -> list[str]:
    """The texts of a prepared benchmark's queries.tsv (``qid<TAB>text``)."""
    with open(path, encoding="utf-8") as handle:
        return [line.rstrip("\n").split("\t", 1)[1] for line in handle if "\t" in line]


def read_scripts(path: Path | None) -> dict[str, str]:
    """{code: script} from config/languages.tsv (comment lines start with '#'); {} without the file."""
    if path is None or not Path(path).is_file():
        return {}
    with open(path, encoding="utf-8") as handle:
        rows = csv.DictReader((line for line in handle if not line.startswith("#")), delimiter="\t")
        return {row["code"]: row.get("script", "") or "" for row in rows}


def moderator_row(tokenizer, tokenizer_name: str, language: str, benchmark: str, queries: Path, metrics: Path,
                  scripts: dict[str, str]) -> dict:
    """One row of the moderators table (:data:`COLUMNS`)."""
    texts = read_queries(Path(queries))
    zero_shot = json.loads(Path(metrics).read_text(encoding="utf-8")).get("recall_at_50", float("nan"))
    return {"language": language, "benchmark": benchmark, "script": scripts.get(language, ""),
            "script_detected": dominant_script(texts), "n_queries": len(texts),
            **tokenizer_stats(tokenizer, texts), "zero_shot_recall_at_50": zero_shot, "tokenizer": tokenizer_name}


def write_table(rows: list[dict], path: Path) -> None:
    """The moderators table as TSV (floats with 6 significant digits), one row per (language, benchmark)."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS, delimiter="\t", lineterminator="\n")
        writer.writeheader()
        for row in sorted(rows, key=lambda r: (r["language"], r["benchmark"])):
            writer.writerow({k: f"{v:.6g}" if isinstance(v, float) else v for k, v in row.items()})
