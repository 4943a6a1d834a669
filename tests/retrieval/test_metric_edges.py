"""Run and qrels files whatever the machine's locale, the messages that name what is wrong, and the
cutoffs of the evaluation table at their edge (tests/retrieval/test_metrics.py: against pytrec_eval)."""

import locale

import pytest

from swimscale.errors import InputError
from swimscale.retrieval import evaluate, read_qrels, read_run, recall_at_k, write_run


@pytest.fixture
def ascii_locale():
    """The C locale, whose default file encoding is ASCII (a bare cluster node's)."""
    before = locale.setlocale(locale.LC_CTYPE)
    locale.setlocale(locale.LC_CTYPE, "C")
    yield
    locale.setlocale(locale.LC_CTYPE, before)


def test_files_are_utf8_whatever_the_locale(tmp_path, ascii_locale):
    run = tmp_path / "run.trec"
    write_run(run, {"ìbéèrè-1": [("ọ̀rọ̀-7", 2.5), ("d2", 1.0)]}, "tag")
    assert run.read_bytes().decode("utf-8").startswith("ìbéèrè-1 Q0 ọ̀rọ̀-7 1 2.5 tag\n")
    assert read_run(run) == {"ìbéèrè-1": {"ọ̀rọ̀-7": 2.5, "d2": 1.0}}
    qrels = tmp_path / "qrels.txt"
    qrels.write_bytes("ìbéèrè-1 0 ọ̀rọ̀-7 1\n".encode())
    assert read_qrels(qrels) == {"ìbéèrè-1": {"ọ̀rọ̀-7": 1}}


def test_a_line_with_the_wrong_number_of_fields_names_the_layout(tmp_path):
    run, qrels = tmp_path / "run.trec", tmp_path / "qrels.txt"
    run.write_text("q1 Q0 d1 1 0.5\n")
    qrels.write_text("\nq1 0 d1\n")
    with pytest.raises(InputError) as err:
        read_run(run)
    assert str(err.value) == f"{run}: line 1: expected 6 fields (qid Q0 docid rank score tag), got 5"
    with pytest.raises(InputError) as err:
        read_qrels(qrels)
    assert str(err.value) == f"{qrels}: line 2: expected 4 fields (qid 0 docid relevance), got 3"


@pytest.mark.parametrize(("tag", "results", "message"), [
    ("my tag", {"q1": [("d1", 1.0)]}, "tag 'my tag' must be non-empty and contain no whitespace"),
    ("t", {"q 1": [("d1", 1.0)]}, "query id 'q 1' must be non-empty and contain no whitespace"),
])
def test_write_run_names_the_bad_field(tmp_path, tag, results, message):
    with pytest.raises(ValueError) as err:
        write_run(tmp_path / "run.trec", results, tag)
    assert str(err.value) == message


def test_a_cutoff_below_one_is_refused():
    with pytest.raises(ValueError) as err:
        recall_at_k({}, {"q": {"d": 1}}, 0)
    assert str(err.value) == "cutoff k must be >= 1, got 0"


def test_the_evaluation_table_cuts_mrr_and_ndcg_at_10():
    docs = {f"d{i:02d}": float(100 - i) for i in range(1, 21)}  # d01 ranked first
    row = evaluate({"q10": docs, "q11": docs}, {"q10": {"d10": 1}, "q11": {"d11": 1}}).set_index("qid")
    assert row.loc["q10", "mrr_at_10"] == pytest.approx(0.1) and row.loc["q11", "mrr_at_10"] == 0.0
    assert row.loc["q10", "ndcg_at_10"] > 0 and row.loc["q11", "ndcg_at_10"] == 0.0
