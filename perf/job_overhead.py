"""Per-job overhead of a train job on this machine: what a job pays before its first update.

Runs a fresh interpreter (as Snakemake starts each job) and times, in it: the imports a train job makes
(``swimscale.model`` with torch and transformers), loading the teacher and the student (the tiny test
model by default; ``--model`` for another), and reading a pool sample of ``--records`` records. Prints
one JSON line; `swimscale plan` quotes the total as the cpu row's ``overhead_s`` (devices.tsv).

    python perf/job_overhead.py                 # the tiny model, 1,000 records
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None, help="encoder spec (default: the tests' tiny model)")
    parser.add_argument("--records", type=int, default=1000)
    args = parser.parse_args()
    if args.model is None:
        sys.path.insert(0, str(ROOT))
        from tests.model.bible import TEACHER
        args.model = TEACHER
    print(json.dumps({"model": args.model, "records": args.records, **measure(args.model, args.records)}))


if __name__ == "__main__":
    main()
