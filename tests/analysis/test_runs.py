"""The workflow's recall table from what the stages wrote (metrics, training logs, validate reports),
and the optional columns it adds: built, written, read back, checked."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import pytest
from tests.analysis.synthetic import MAX_STEPS, UNTRAINED_DEV, study, train_log, validate_report, write_sweep

from swimscale.analysis import (
    DETAIL_COLUMNS,
    InputError,
    RECALL_COLUMNS,
    build_recall_table,
    read_recall_table,
    sweep_records,
    write_tsv,
)
from swimscale.analysis._runs import NO_REPORT, UNTRAINED, untrained_dev_recall
from swimscale.analysis._schema import WARNING_SEPARATOR

SIZES = (0, 16, 64)
DROPPED = {"unknown_document": 3, "query_without_judgements": 1, "duplicate_judgement": 0}
PREPARED = {"queries_read": 45, "queries_lost": 4, "queries": 41}


def _report(test_documents: int = 5000, dev_documents: int = 300, mode: str = "drop") -> dict:
    return validate_report({"bench-ny": ("test", test_documents, 5, 2, DROPPED, PREPARED),
                            "bench-ny-dev": ("dev", dev_documents, 2, 0, {}, {})}, overlap_mode=mode)


def _sweep(tmp_path: Path, report: dict | None = None, budget: str = "converged") -> tuple[pd.DataFrame, list[dict]]:
    table, _, _ = study(sizes=SIZES, seeds=(0, 1), n_queries=20, methods=("optical", "pooled"))
    points = write_sweep(tmp_path, table, lambda size, seed: size == 64 and seed == 1, {"ny": report or _report()}, budget)
    return table, points


def _reports(tmp_path: Path) -> dict[str, str]:
    return {"ny": str(tmp_path / "validate" / "ny" / "report.json")}


def test_records_carry_training_and_data_columns(tmp_path: Path) -> None:
    table, points = _sweep(tmp_path)
    recall = build_recall_table(sweep_records(points, _reports(tmp_path), budget="converged"))
    assert list(recall.columns) == [*RECALL_COLUMNS[:-2], *DETAIL_COLUMNS, "run_file", "qrels_file"]
    pd.testing.assert_series_equal(recall["recall_at_50"], table["recall_at_50"])  # the metrics files' values
    for r in recall[recall["size"] > 0].itertuples():
        log = train_log(r.size, r.seed, r.size == 64 and r.seed == 1)
        assert (r.budget, r.steps, r.steps_at_best, r.max_steps, r.stopped_by, r.cap_bound) == (
            "converged", log["steps"], log["steps_at_best"], MAX_STEPS, log["stopped_by"], log["cap_bound"])
        assert (r.dev_recall_at_best, r.examples_seen, r.examples_at_best, r.passes_at_best) == (
            log["dev_recall_at_best"], log["examples_seen"], log["examples_at_best"], log["passes_at_best"])
    assert recall["cap_bound"].sum() == 2  # N = 64, seed 1, for both methods
    zero = recall[recall["size"] == 0]
    assert (zero["steps"] == 0).all() and (zero["steps_at_best"] == 0).all() and (zero["examples_seen"] == 0).all()
    assert (zero["passes_at_best"] == 0).all()
    assert (~zero["cap_bound"]).all() and (zero["budget"] == "converged").all() and (zero["stopped_by"] == UNTRAINED).all()
    assert zero["max_steps"].isna().all()
    assert (zero["dev_recall_at_best"] == UNTRAINED_DEV).all()  # the untrained student's, measured at step 0


def test_data_columns_are_the_validate_reports(tmp_path: Path) -> None:
    _, points = _sweep(tmp_path, _report(test_documents=40, dev_documents=30))
    recall = build_recall_table(sweep_records(points, _reports(tmp_path), budget="converged"))
    assert (recall["overlap_mode"] == "drop").all()
    assert (recall["overlap_relevant"] == 5).all() and (recall["overlap_other"] == 2).all()
    assert (recall["overlap_dropped"] == 7).all()  # 5 of the test benchmark, 2 of the dev one
    assert (recall["corpus_documents"] == 40).all()
    warnings = recall["data_warnings"].iloc[0].split(WARNING_SEPARATOR)
    assert warnings[0] == "bench-ny: small_corpus: 40 documents, at most 50: Recall@50 is 1 for every run"
    assert warnings[1].startswith("bench-ny: bad queries or judgements were dropped when preparing it (on_bad_judgement: drop)")
    assert "query_without_judgements 1, unknown_document 3; 4 of its 45 queries were lost" in warnings[1]
    assert "duplicate_judgement" not in warnings[1]  # a kind with nothing dropped
    assert warnings[2] == "bench-ny-dev (dev): small_corpus: 30 documents, at most 50: Recall@50 is 1 for every run"
    assert len(warnings) == 3


def test_a_clean_report_gives_no_warnings(tmp_path: Path) -> None:
    report = validate_report({"bench-ny": ("test", 5000, 0, 0, {}, {}), "bench-ny-dev": ("dev", 300, 0, 0, {}, {})})
    _, points = _sweep(tmp_path, report)
    recall = build_recall_table(sweep_records(points, _reports(tmp_path), budget="converged"))
    assert (recall["data_warnings"] == "").all() and (recall["overlap_relevant"] == 0).all()


def test_fixed_budget_has_no_dev_best_and_no_cap(tmp_path: Path) -> None:
    _, points = _sweep(tmp_path, budget="fixed")
    recall = build_recall_table(sweep_records(points, _reports(tmp_path), budget="fixed"))
    trained = recall[recall["size"] > 0]
    assert (trained["budget"] == "fixed").all() and (~trained["cap_bound"]).all()
    assert (trained["steps_at_best"] == trained["steps"]).all() and trained["dev_recall_at_best"].isna().all()


def test_table_round_trips_through_tsv(tmp_path: Path) -> None:
    _, points = _sweep(tmp_path, _report(test_documents=40))
    recall = build_recall_table(sweep_records(points, _reports(tmp_path), budget="converged"))
    write_tsv(recall, tmp_path / "recall.tsv")
    back = read_recall_table(tmp_path / "recall.tsv")
    assert back["cap_bound"].dtype == bool and back["cap_bound"].tolist() == recall["cap_bound"].tolist()
    assert back["data_warnings"].tolist() == recall["data_warnings"].tolist()
    assert back["max_steps"].isna().tolist() == recall["max_steps"].isna().tolist()
    for column in ("steps_at_best", "overlap_relevant", "dev_recall_at_best", "corpus_documents"):
        pd.testing.assert_series_equal(back[column], recall[column].astype(float), check_names=False)


def test_untrained_dev_recall_only_when_the_logs_agree() -> None:
    log = {"dev_curve": [[0, 0.07], [50, 0.1]]}
    assert untrained_dev_recall([log, log]) == 0.07
    assert math.isnan(untrained_dev_recall([log, {"dev_curve": [[0, 0.08]]}]))
    assert math.isnan(untrained_dev_recall([{"dev_curve": []}, {"dev_curve": [[50, 0.1]]}]))


def test_a_log_without_a_key_stops_naming_file_and_key(tmp_path: Path) -> None:
    _, points = _sweep(tmp_path)
    path = Path(next(p["train_log"] for p in points if p["train_log"]))
    log = json.loads(path.read_text())
    del log["steps_at_best"]
    path.write_text(json.dumps(log))
    with pytest.raises(InputError, match=rf"{path}: training log has no key 'steps_at_best'"):
        sweep_records(points, _reports(tmp_path), budget="converged")


def test_a_report_without_the_benchmark_stops_naming_it(tmp_path: Path) -> None:
    report = _report()
    del report["overlap"]["benchmarks"]["bench-ny"]
    _, points = _sweep(tmp_path, report)
    with pytest.raises(InputError, match=r"report.json: validate report's overlap.benchmarks has no key 'bench-ny'"):
        sweep_records(points, _reports(tmp_path), budget="converged")



def test_a_language_without_a_report_gets_a_warning_and_no_data_columns(tmp_path: Path) -> None:
    """A partial table whose pool failed: its zero-shot runs are rows, its checks never ran."""
    _, points = _sweep(tmp_path)
    recall = build_recall_table(sweep_records(points, {}, budget="converged"))
    assert (recall["data_warnings"] == NO_REPORT).all() and recall["overlap_relevant"].isna().all()
    assert (recall["overlap_mode"] == "").all() and recall["corpus_documents"].isna().all()


HEADER = "language\tbenchmark\tmethod\tsize\tseed\trecall_at_50"


@pytest.mark.parametrize(
    "column, value, expected",
    [
        ("steps_at_best", "abc", r"line 3, column steps_at_best: 'abc' is not a number"),
        ("steps_at_best", "-5", r"line 3, column steps_at_best: '-5' is negative"),
        ("overlap_relevant", "2.5", r"line 3, column overlap_relevant: '2.5' is not an integer"),
        ("cap_bound", "yes", r"line 3, column cap_bound: 'yes' is not true or false"),
        ("dev_recall_at_best", "x", r"line 3, column dev_recall_at_best: 'x' is not a number"),
    ],
)
def test_bad_optional_values_name_line_and_column(tmp_path: Path, column: str, value: str, expected: str) -> None:
    path = tmp_path / "t.tsv"
    path.write_text(f"{HEADER}\t{column}\nny\tb\tm\t0\t0\t0.1\t\nny\tb\tm\t16\t0\t0.2\t{value}\n")
    with pytest.raises(InputError, match=expected):
        read_recall_table(path)


def test_optional_columns_may_be_empty_or_partial(tmp_path: Path) -> None:
    path = tmp_path / "t.tsv"
    path.write_text(f"{HEADER}\tbudget\tsteps_at_best\tcap_bound\nny\tb\tm\t0\t0\t0.1\tconverged\t\t\n"
                    "ny\tb\tm\t16\t0\t0.2\tconverged\t350\tTRUE\nny\tb\tm\t32\t0\t0.2\t\tnan\tfalse\n")
    table = read_recall_table(path)
    assert table["steps_at_best"].isna().tolist() == [True, False, True] and table["steps_at_best"][1] == 350
    assert table["cap_bound"].tolist() == [False, True, False] and table["budget"].tolist() == ["converged", "converged", ""]


def test_repeated_document_ids_dropped_from_a_collection_are_a_warning(tmp_path: Path) -> None:
    _, points = _sweep(tmp_path, validate_report({"bench-ny": ("test", 5000, 0, 0, {}, {}),
                                                  "bench-ny-dev": ("dev", 300, 0, 0, {}, {})}))
    manifests = {"bench-ny": tmp_path / "collection-a.json", "bench-ny-dev": tmp_path / "collection-b.json"}
    manifests["bench-ny"].write_text(json.dumps({"collection": "a", "counts": {"corpus_documents": 5000, "duplicate_docids": 3}}))
    manifests["bench-ny-dev"].write_text(json.dumps({"collection": "b", "counts": {"corpus_documents": 300}}))
    collections = {name: str(path) for name, path in manifests.items()}
    recall = build_recall_table(sweep_records(points, _reports(tmp_path), "converged", collections))
    assert (recall["data_warnings"] == "bench-ny: 3 repeated document id(s) in its collection a were dropped when "
            "preparing it (on_bad_judgement: drop keeps the first copy of each)").all()
    with pytest.raises(InputError, match=r"collection-c.json: collection manifest not found"):
        sweep_records(points, _reports(tmp_path), "converged", {"bench-ny": str(tmp_path / "collection-c.json")})


# --- the records a student saw against its size --------------------------------------------------------

def test_a_log_whose_records_are_not_its_size_is_refused_unless_capped():
    from swimscale.analysis._runs import trained_records
    from swimscale.errors import InputError

    assert trained_records({"n_records": 32}, "log.json", 32) == {"n_records": 32}
    assert trained_records(None, None, 0) == {"n_records": 0}
    assert trained_records({"n_records": 20, "capped_to": 20}, "log.json", 32) == {"n_records": 20}
    with pytest.raises(InputError, match=r"log.json: the student was trained on 20 records but its size is 32"):
        trained_records({"n_records": 20}, "log.json", 32)
    with pytest.raises(InputError, match="no key 'n_records'"):
        trained_records({}, "log.json", 32)
