"""Run files: written atomically (a killed search leaves the previous file or none, never a cut-short
one) and checked whole before they are scored (check_run)."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from swimscale.errors import InputError
from swimscale.retrieval import build_flat_ip, check_run, evaluate, read_run, search, write_run

ROOT = Path(__file__).resolve().parents[2]


def exact_run(n_queries=20, n_documents=500, k=100, seed=0):
    """A run as the search stage writes it: exact top-k over a random normalised corpus."""
    rng = np.random.default_rng(seed)
    corpus = rng.standard_normal((n_documents, 16)).astype(np.float32)
    queries = rng.standard_normal((n_queries, 16)).astype(np.float32)
    corpus /= np.linalg.norm(corpus, axis=1, keepdims=True)
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    qids = [f"q{i}" for i in range(n_queries)]
    return search(build_flat_ip(corpus, normalize=True), queries, qids, [f"d{i}" for i in range(n_documents)], k)


def test_a_whole_run_passes_and_is_returned(tmp_path):
    path = tmp_path / "n100.trec"
    write_run(path, exact_run(), "t")
    assert check_run(path, [f"q{i}" for i in range(20)], k=100, n_documents=500) == read_run(path)
    # A corpus smaller than k: every query holds the whole corpus.
    write_run(path, exact_run(n_documents=30), "t")
    check_run(path, ["q0", "q19"], k=100, n_documents=30)


def test_a_run_cut_at_a_line_boundary_is_refused_not_scored(tmp_path):
    """The reported case: a file cut short at a line boundary parses, and scoring it lowers Recall@50
    silently (here Recall@100); check_run refuses it, naming the file and the query."""
    path = tmp_path / "n100.trec"
    write_run(path, exact_run(), "t")
    lines = path.read_text().splitlines(keepends=True)
    qrels = {f"q{i}": {f"d{j}": 1 for j in range(0, 500, 7)} for i in range(20)}
    whole = evaluate(read_run(path), qrels)["recall_at_100"].mean()
    path.write_text("".join(lines[:-60]))  # the last query keeps 40 of its 100 lines
    assert evaluate(read_run(path), qrels)["recall_at_100"].mean() < whole  # what used to be reported
    with pytest.raises(InputError, match=r"n100\.trec: 1 judged queries .* = 100 documents .*'q19': 40"):
        check_run(path, qrels, k=100, n_documents=500)
    path.write_text("".join(lines[:-100]))  # q19 gone entirely
    with pytest.raises(InputError, match="'q19': 0"):
        check_run(path, qrels, k=100, n_documents=500)


def test_unjudged_queries_are_not_required_and_longer_rows_are_refused(tmp_path):
    path = tmp_path / "r.trec"
    run = exact_run(k=10)
    write_run(path, {q: docs for q, docs in run.items() if q != "q3"}, "t")
    check_run(path, ["q0", "q1"], k=10, n_documents=500)  # q3 is not judged: not needed
    with pytest.raises(InputError, match="'q3': 0"):
        check_run(path, ["q0", "q3"], k=10, n_documents=500)
    # A run of 10 per query is not the k = 5 run it is checked as.
    write_run(path, run, "t")
    with pytest.raises(InputError, match="20 judged queries .* = 5 documents"):
        check_run(path, [f"q{i}" for i in range(20)], k=5, n_documents=500)


def test_a_failed_write_leaves_the_previous_file_and_no_temporary(tmp_path, monkeypatch):
    import swimscale.formats._trec_run as trec_run

    path = tmp_path / "r.trec"
    write_run(path, exact_run(k=10), "old")
    before = path.read_text()

    real = trec_run._write_lines

    def dies_half_way(handle, results, tag):
        real(handle, dict(list(results.items())[:3]), tag)
        raise OSError("disk full")

    monkeypatch.setattr(trec_run, "_write_lines", dies_half_way)
    with pytest.raises(OSError, match="disk full"):
        write_run(path, exact_run(k=10), "new")
    assert path.read_text() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.trec"]


def test_a_sigkilled_write_leaves_the_previous_file_and_the_next_write_cleans_up(tmp_path):
    """SIGKILL between writing and renaming (no `finally` runs): the run file is the old one; the
    temporary file it leaves is replaced and removed by the next write."""
    path = tmp_path / "r.trec"
    write_run(path, exact_run(k=10), "old")
    before = path.read_text()
    child = textwrap.dedent(f"""
        import os, signal
        from swimscale.retrieval import write_run
        os.replace = lambda *a: os.kill(os.getpid(), signal.SIGKILL)
        write_run({str(path)!r}, {{"q0": [("d2", 0.5)]}}, "new")
    """)
    result = subprocess.run([sys.executable, "-c", child], env={"PYTHONPATH": str(ROOT / "src")}, timeout=120)
    assert result.returncode == -signal.SIGKILL
    assert path.read_text() == before
    assert (tmp_path / "r.trec.partial").exists()
    write_run(path, exact_run(k=10), "new")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.trec"]
    assert path.read_text().split("\n", 1)[0].endswith(" new")


def test_a_refusal_names_the_first_five_wrong_queries_in_order(tmp_path):
    path = tmp_path / "r.trec"
    run = exact_run(k=10)
    write_run(path, {q: docs for q, docs in run.items() if q not in {"q11", "q12", "q13", "q14", "q15"}}, "t")
    judged = [f"q{i}" for i in range(20)][::-1]  # any order; repeats count once
    with pytest.raises(InputError, match=r"5 judged queries .* \('q11': 0, 'q12': 0, 'q13': 0, 'q14': 0, 'q15': 0\);"):
        check_run(path, judged + ["q11"], k=10, n_documents=500)
    write_run(path, {q: docs[:4] for q, docs in run.items()}, "t")
    with pytest.raises(InputError, match=r"20 judged queries .* \('q0': 4, 'q1': 4, 'q10': 4, 'q11': 4, 'q12': 4, \.\.\.\);"):
        check_run(path, judged, k=10, n_documents=500)
    six = [f"q{i}" for i in range(6)]  # one more than is shown
    with pytest.raises(InputError, match=r"6 judged queries .* \('q0': 4, 'q1': 4, 'q2': 4, 'q3': 4, 'q4': 4, \.\.\.\); "
                                         r"the file is cut short or from another search: delete it and run the search again$"):
        check_run(path, six, k=10, n_documents=500)


def test_a_one_document_collection_is_whole_with_one_document_and_none_is_an_error(tmp_path):
    path = tmp_path / "r.trec"
    write_run(path, exact_run(n_queries=3, n_documents=1, k=10), "t")
    assert check_run(path, ["q0", "q2"], k=10, n_documents=1) == read_run(path)
    with pytest.raises(ValueError, match="n_documents must be >= 1, got 0"):
        check_run(path, ["q0"], k=10, n_documents=0)
    with pytest.raises(ValueError, match="cutoff k must be >= 1, got 0"):
        check_run(path, ["q0"], k=0, n_documents=1)
