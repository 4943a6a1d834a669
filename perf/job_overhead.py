"""Per-job overhead of a train job on this machine: what a job pays before its first update.

Runs a fresh interpreter (as Snakemake starts each job) and times, in it: the imports a train job makes
(``swimscale.model`` with torch and transformers), loading the teacher and the student (the tiny test
model by default; ``--model`` for another), and reading a pool sample of ``--records`` records. Prints
one JSON line; `swimscale plan` quotes the total as the cpu row's ``overhead_s`` (devices.tsv).

    python perf/job_overhead.py                 # the tiny model, 1,000 records
    python perf/job_overhead.py --per-record    # + per-record costs on real text, one core (the plan's)

``--per-record`` times, on one thread and on real text (the bundled Chichewa and King James Bibles:
a query is a Chichewa verse cut to its first 10 words, a counterpart a title and ~95 English words), what
`swimscale plan` charges per record (swimscale.plan._costs): reading a pool record (JSON), tokenising its
query, tokenising its counterpart; and counts the distinct word pieces of 1,000–30,000 verses of each
Bible (how many embedding rows a sample's queries reach: ``embedding_rows: sample``).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = r"""
import json, sys, tempfile, time
start = time.perf_counter()
import torch, transformers  # noqa: F401
import swimscale.model as model
imported = time.perf_counter()
tokenizer, teacher = model.load_encoder(sys.argv[1], torch.device("cpu"))
student = model.StudentModel(model.load_encoder(sys.argv[1], torch.device("cpu"))[1], None, False, None)
loaded = time.perf_counter()
n = int(sys.argv[2])
with tempfile.NamedTemporaryFile("w+", suffix=".jsonl") as f:
    for i in range(n):
        f.write(json.dumps({"_id": str(i), "query": "q " * 10, "text": "word " * 95, "title": "t"}) + "\n")
    f.flush(); f.seek(0)
    read_start = time.perf_counter()
    records = [json.loads(line) for line in f]
    tokenizer([r["query"] for r in records], truncation=True, max_length=128)
data = time.perf_counter() - read_start
print(json.dumps({"imports_s": round(imported - start, 2), "model_load_s": round(loaded - imported, 2),
                  "data_load_s": round(data, 2)}))
"""


def measure(model: str, records: int) -> dict:
    """One fresh interpreter's start-up, split into its parts, plus the interpreter's own start."""
    import time

    start = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", CHILD, model, str(records)], capture_output=True, text=True,
                         check=True, env={"PYTHONPATH": str(ROOT / "src"), "PATH": ""}, cwd=ROOT)
    parts = json.loads(out.stdout.strip().splitlines()[-1])
    parts["total_s"] = round(time.perf_counter() - start, 2)
    return parts


PER_RECORD = r"""
import glob, json, random, sys, tempfile, time
import torch
torch.set_num_threads(1)
from swimscale.data._bible import bundled_bible_paths
from swimscale.model import load_tokenizer
ny_dir, kjv = bundled_bible_paths()
ny = [v for f in sorted(glob.glob(str(ny_dir) + "/*/*.json")) for v in json.load(open(f, encoding="utf-8"))]
en = [json.loads(line)["text"] for line in open(kjv, encoding="utf-8")]
random.Random(0).shuffle(ny), random.Random(1).shuffle(en)
n = int(sys.argv[2])
words = " ".join(en).split()
records = [{"_id": f"q{i}", "query": " ".join(ny[i % len(ny)].split()[:10]), "title": " ".join(words[100 * i:100 * i + 3]),
            "text": " ".join(words[100 * i + 3:100 * i + 98])} for i in range(n)]
tokenizer = load_tokenizer(sys.argv[1])
tokenizer._tokenizer.encode_batch  # the fast (Rust) tokenizer
import os; os.environ["RAYON_NUM_THREADS"] = "1"
with tempfile.NamedTemporaryFile("w+", suffix=".jsonl", encoding="utf-8") as f:
    f.writelines(json.dumps(r) + "\n" for r in records)
    f.flush(); f.seek(0)
    start = time.perf_counter(); read = [json.loads(line) for line in f]; read_s = time.perf_counter() - start
start = time.perf_counter()
tokenizer([r["query"] for r in read], truncation=True, max_length=128, return_special_tokens_mask=True)
query_s = time.perf_counter() - start
start = time.perf_counter()
tokenizer([r["title"] + " " + r["text"] for r in read], truncation=True, max_length=256)
counterpart_s = time.perf_counter() - start
rows = {}
for name, texts in (("chichewa", ny), ("english", en)):
    seen, counts = set(), {}
    for i, ids in enumerate(tokenizer(texts[:30000], truncation=True, max_length=128)["input_ids"], 1):
        seen.update(ids)
        if i in (1000, 3000, 10000, 30000):
            counts[i] = len(seen)
    rows[name] = counts
print(json.dumps({"read_s_per_record": read_s / n, "query_s_per_record": query_s / n,
                  "counterpart_s_per_record": counterpart_s / n, "vocabulary": tokenizer.vocab_size,
                  "distinct_pieces_of_verses": rows}))
"""


def per_record(model: str, records: int) -> dict:
    """Per-record costs on real text, one core, in a fresh interpreter (the module docstring)."""
    out = subprocess.run([sys.executable, "-c", PER_RECORD, model, str(records)], capture_output=True, text=True,
                         check=True, env={"PYTHONPATH": str(ROOT / "src"), "PATH": "", "RAYON_NUM_THREADS": "1",
                                          "TOKENIZERS_PARALLELISM": "false"}, cwd=ROOT)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None, help="encoder spec (default: the tests' tiny model)")
    parser.add_argument("--records", type=int, default=1000)
    parser.add_argument("--per-record", action="store_true", help="also the per-record costs on real text (one core)")
    args = parser.parse_args()
    if args.model is None:
        sys.path.insert(0, str(ROOT))
        from tests.model.bible import TEACHER
        args.model = TEACHER
    report = {"model": args.model, "records": args.records, **measure(args.model, args.records)}
    if args.per_record:
        report["per_record"] = per_record(args.model, max(args.records, 20000))
    print(json.dumps(report))


if __name__ == "__main__":
    main()
