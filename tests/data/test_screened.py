"""The overlap screen's record and its check before a student is scored (swimscale.data.check_screened): a
qrels edit that changes grades, removes judgements or adds non-relevant ones rescores; one that makes a
document relevant that the screen never saw, or queries that changed, stops naming the file and the
command that re-screens and retrains."""

import json

import pytest

from swimscale.data import check_screened, relevant_documents, screened_record
from swimscale.errors import InputError

RESCREEN = "rm 'results/validate/ny/report.json' && snakemake --cores all"
QRELS = "q1 0 d1 1\nq1 0 d2 0\nq2 0 d3 2\n"
MANIFEST = {"dropped": {"unknown_document": 1}, "counts": {"queries_read": 3, "queries_lost": 1, "judgements": 3}}


@pytest.fixture
def bench(tmp_path):
    (tmp_path / "queries.tsv").write_text("q1\tone\nq2\ttwo\n")
    (tmp_path / "qrels.txt").write_text(QRELS)
    (tmp_path / "manifest.json").write_text(json.dumps(MANIFEST))
    files = {"queries": tmp_path / "queries.tsv", "qrels": tmp_path / "qrels.txt", "manifest": tmp_path / "manifest.json",
             "role": "test"}
    record = {"b": screened_record(files, relevant_documents(files["qrels"]))}
    return files, record


def check(files, record):
    check_screened("b", files, record, RESCREEN)


def test_the_record_holds_what_the_screen_read(bench):
    files, record = bench
    assert record["b"]["relevant"] == ["d1", "d3"] and record["b"]["role"] == "test"
    assert record["b"]["qrels"] == str(files["qrels"]) and len(record["b"]["qrels_sha256"]) == 64
    assert record["b"]["prepared"] == {"dropped": {"unknown_document": 1}, "queries_read": 3, "queries_lost": 1}
    check(files, record)  # the files as screened pass


@pytest.mark.parametrize("edited", [
    "q1 0 d1 2\nq1 0 d2 0\nq2 0 d3 1\n",  # grades changed
    "q1 0 d1 1\nq2 0 d3 2\n",  # a judgement removed
    QRELS + "q2 0 d9 0\n",  # a new non-relevant judgement
    "q2 0 d3 2\n",  # a relevant document no longer relevant
])
def test_an_edit_within_the_screened_documents_rescores(bench, edited):
    files, record = bench
    files["qrels"].write_text(edited)
    check(files, record)


def test_a_document_relevant_now_that_the_screen_never_saw_stops_naming_the_file(bench):
    files, record = bench
    files["qrels"].write_text("q1 0 d1 1\nq1 0 d2 1\nq2 0 d3 2\nq2 0 d8 1\n")  # d8 new, d2 non-relevant before
    with pytest.raises(InputError) as error:
        check(files, record)
    message = str(error.value)
    assert message.startswith(f"{files['qrels']}: 2 document(s) judged relevant now")
    assert "(e.g. 'd2')" in message and message.endswith(f"re-screen and retrain: {RESCREEN}") and "\n" not in message


def test_queries_that_changed_since_the_screen_stop_naming_them(bench):
    files, record = bench
    files["queries"].write_text("q1\tone\nq2\ttwo!\n")
    with pytest.raises(InputError, match=r"queries.tsv: the queries changed since the training pool was screened"):
        check(files, record)


def test_other_dropped_judgements_than_the_screens_report_stop_naming_the_manifest(bench):
    """The validate report's dropped judgements are quoted by the tables: a re-preparation that dropped
    others (here with the qrels as they were) re-screens; other counts of the manifest do not."""
    files, record = bench
    files["manifest"].write_text(json.dumps({**MANIFEST, "counts": {**MANIFEST["counts"], "judgements": 4}}))
    check(files, record)
    files["manifest"].write_text(json.dumps({**MANIFEST, "dropped": {"unknown_document": 2}}))
    with pytest.raises(InputError, match=r"manifest.json: the judgements dropped or queries lost in preparing 'b'"):
        check(files, record)


def test_a_benchmark_the_screen_never_read_stops(bench):
    files, _ = bench
    with pytest.raises(InputError, match=r"qrels.txt: benchmark 'b' is not in the overlap screen's record"):
        check(files, {})
