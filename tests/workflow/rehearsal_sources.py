"""The rehearsal's inputs (tests/workflow/test_rehearsal.py, docs/rehearsal.md): every real source of
config/full_study.yaml, small, laid out as the source lays it out, written into a test's folder with
the builders of the data tests (tests/data/test_swimir.py, tests/data/test_benchmarks.py), and a tiny
random BERT teacher (perf/synthetic.py). :func:`stage` writes them all and the config, from the template
tests/fixtures/rehearsal/rehearsal.yaml.

Planted overlaps (the validate stage's screen must find them): one Indic pool record is XTREME-UP's
gold passage of bho's test and dev queries (the leak the SWIM-IR data card makes possible), one is a
passage of the same index that no query judges; one Hub record is the CLIRMatrix document judged most
relevant to a bn test query. The yo pool holds a near-duplicate (a changed word, other punctuation) of
the long TREC passage relevant to yo-q1, which only the near-duplicate screen finds, and a record whose
generated query is test query yo-q2 but for case and punctuation.
"""

from __future__ import annotations

import shutil
import sys
import tarfile
from pathlib import Path
from string import Template

import yaml

from swimscale.data import _swimir as swimir
from tests.data.test_benchmarks import clirmatrix_home, trec_files, write_lines, xtreme_up_release
from tests.data.test_swimir import NAMES, hub_snapshot, records, release_jsonl

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "tests" / "fixtures" / "rehearsal" / "rehearsal.yaml"
# XTREME-UP: the release's top folder and archive name (notes: real-data-formats.md).
XTREME_UP_TOP = "xtreme_up_v1.1"
XTREME_UP_ARCHIVE = "xtreme-up-v1.1.jsonl.tgz"
# Documents per collection: above 50, so that Recall@50 is not 1 whatever the run.
XTREME_UP_PASSAGES = 60
CLIRMATRIX_DOCUMENTS = 80
TREC_DOCUMENTS = 60
POOL_RECORDS = 30

# The planted overlaps: {language: [(pool passage, the document it equals)]}. XTREME-UP's gold passages
# are p0, p2, p4, p6 (xtreme_up_release: query i's gold is p{2i}), in every split, and p51 is judged by
# none; CLIRMatrix bn test1's first query judges document 1006 with grade 6 (clirmatrix_home: bn comes
# second, its test1 queries judge 1006-1008 most relevant).
# The TREC corpus's local-3 (relevant to yo-q1) is a long passage; yo's pool holds a near-duplicate of it.
LONG_PASSAGE = ("The river rises in the highlands near the border and runs north through two countries, then turns "
                "east and south in a long curve before it reaches the delta, where it divides into many channels "
                "that carry its water and its silt into the gulf; towns along its banks trade in fish, rice and "
                "cloth, and boats carry goods between them in every season except the driest months.")
NEAR_DUPLICATE = LONG_PASSAGE.replace("long curve", "wide curve").replace(";", ".").replace(",", "")
PLANTED = {
    "bho": [({"title": "Article 2", "text": "English passage 2."}, "p2"),
            ({"title": "Article 51", "text": "English passage 51."}, "p51")],
    "bn": [({"title": "Wikipedia", "text": "English Wikipedia passage 6 ."}, "1006")],
    "yo": [({"title": "Another title", "text": NEAR_DUPLICATE}, "local-3")],
}
# Planted near-duplicates (found by the near-duplicate screen only): {language: their documents}.
NEAR = {"yo": {"local-3"}}
# A pool record whose generated query is a benchmark's query: {language: (query, benchmark)}.
PLANTED_QUERIES = {"yo": ("ÌBÉÈRÈ agbègbè 2!", "trec-yo")}


def pool_records(code: str) -> list[dict]:
    """A language's SWIM-IR records, the planted ones last (ids `<code>-planted-<k>`)."""
    planted = [{"_id": f"{code}-planted-{k}", "lang": NAMES[code], "code": code, "query": f"planted {k}?", **passage}
               for k, (passage, _) in enumerate(PLANTED.get(code, []))]
    if code in PLANTED_QUERIES:
        planted.append({"_id": f"{code}-planted-query", "lang": NAMES[code], "code": code,
                        "query": PLANTED_QUERIES[code][0], "title": "Elsewhere", "text": "A pool passage of its own."})
    return records(code, POOL_RECORDS) + planted


def swimir_sources(root: Path, data_dir: Path) -> Path:
    """The Hub snapshots staged under <data_dir>/swimir as docs/full_study.md says (bn: two shards, the
    card listing all 17 languages, ar first; bho: the Indic card, one shard), and the release tree
    `swim_ir_v1/` (yo under cross_lingual/). Returns the release folder."""
    hub_snapshot(data_dir / "swimir" / "swim-ir-cross-lingual", {"bn": pool_records("bn")}, shards=2,
                 codes=list(swimir.HF_LANGUAGES[swimir.CROSS_LINGUAL]))
    hub_snapshot(data_dir / "swimir" / "indic-swim-ir-cross-lingual", {"bho": pool_records("bho")}, shards=1,
                 codes=list(swimir.HF_LANGUAGES[swimir.INDIC]))
    release = root / "swim_ir_v1"
    release_jsonl(release, "yo", pool_records("yo"), section="cross_lingual")
    for section in ("cross_lingual_ext", "monolingual"):  # the release's other sections, unread
        (release / section).mkdir(parents=True)
    return release


def xtreme_up_archive(root: Path) -> Path:
    """The release tarball: `xtreme_up_v1.1/retrieval_cross_lang/{index.jsonl, train/, validation/, test/}`
    beside another task's folder, which the download leaves unextracted."""
    tree = xtreme_up_release(root / "xtreme-up-tree", languages=("bn", "bho", "hne"), n_index=XTREME_UP_PASSAGES)
    write_lines(tree / XTREME_UP_TOP / "qa_in_lang" / "train" / "bn.jsonl", [{"question": "unread"}])
    archive = root / XTREME_UP_ARCHIVE
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(tree / XTREME_UP_TOP, arcname=XTREME_UP_TOP)
    shutil.rmtree(tree)  # only the archive is left to read
    return archive


def trec_benchmark(root: Path) -> dict[str, str]:
    """A local benchmark: five queries, each judging one of the corpus's passages."""
    queries = "".join(f"yo-q{i}\tìbéèrè agbègbè {i}\n" for i in range(5))
    qrels = "".join(f"yo-q{i} 0 local-{3 * i} 1\n" for i in range(5))
    corpus = [{"docid": f"local-{i}", "title": f"Place {i}", "text": LONG_PASSAGE if i == 3 else f"Local passage {i} on a subject."}
              for i in range(TREC_DOCUMENTS)]
    return trec_files(root, queries=queries, qrels=qrels, corpus=corpus)


def teacher(directory: Path) -> Path:
    """A randomly initialised tiny BERT with the bundled MiniLM WordPiece tokenizer, saved as a local
    model directory (config.json, model.safetensors, tokenizer files)."""
    sys.path.insert(0, str(ROOT / "perf"))
    try:
        from synthetic import TINY_SHAPE, random_bert
    finally:
        sys.path.remove(str(ROOT / "perf"))
    from transformers import AutoTokenizer

    from swimscale.model import resolve_model

    tokenizer = AutoTokenizer.from_pretrained(resolve_model("bundled:all-MiniLM-L6-v2"))
    return random_bert(directory, TINY_SHAPE, tokenizer)


def stage(root: Path) -> Path:
    """Writes every input under `root` and the rehearsal config; returns the config's path."""
    data_dir = root / "data"
    clirmatrix_home(data_dir / "ir_datasets", splits=("test1", "dev"), query_languages=("yo", "bn"),
                    n_docs=CLIRMATRIX_DOCUMENTS)
    trec = trec_benchmark(root / "trec-yo")
    values = {
        "teacher": str(teacher(root / "tiny-bert")),
        "data_dir": str(data_dir),
        "release": str(swimir_sources(root, data_dir)),
        "xtreme_up_url": xtreme_up_archive(root / "downloads").as_uri(),
        **{f"trec_{key}": path for key, path in trec.items()},
    }
    config = root / "rehearsal.yaml"
    config.write_text(Template(TEMPLATE.read_text(encoding="utf-8")).substitute(values), encoding="utf-8")
    return config


def template() -> dict:
    """The template as YAML, the placeholders unfilled (for checks of its structure)."""
    return yaml.safe_load(TEMPLATE.read_text(encoding="utf-8"))
