"""`python -m swimscale correlate` on synthetic studies with real run and qrels files, and on bare tables."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from tests.analysis.synthetic import MINIMAL_COLUMNS, study, write_study_files

from swimscale.__main__ import main
from swimscale.analysis import OUTPUTS, output_paths, write_tsv
from swimscale.analysis._schema import LITERATURE_OUTPUTS

ROOT = Path(__file__).resolve().parents[2]
LITERATURE = ROOT / "config" / "literature.tsv"
SIZES = (0, 16, 64, 256, 1024, 4096)


@pytest.fixture(scope="module")
def study_dir(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("study")
    table, _, ranks = study(languages=("ny", "sn"), sizes=SIZES, n_queries=40, seed=5)
    write_study_files(root, table, ranks)
    write_tsv(table, root / "recall.tsv")
    (root / "languages.tsv").write_text("code\ttier\nny\tlow\nsn\tmid\n")
    return root


def test_cli_writes_every_output(study_dir: Path, tmp_path: Path, monkeypatch) -> None:
    # Run from elsewhere: the table's relative paths resolve against its own directory.
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "out"
    args = ["correlate", str(study_dir / "recall.tsv"), str(out), "--tiers", str(study_dir / "languages.tsv"),
            "--literature", str(LITERATURE), "--n-boot", "200", "--n-boot-fit", "20", "--target-recall", "0.2", "--seed", "3"]
    assert main(args) == 0
    for path in output_paths(out, flat=True).values():  # the across-language tables directly under OUT
        assert path.is_file() and path.stat().st_size > 0, path
    correlation = pd.read_csv(out / "tables" / "correlation.tsv", sep="\t")
    metrics = ["recall_at_50", "recall_at_100", "ndcg_at_10", "mrr_at_10", "log2_first_rank"]
    assert list(correlation["metric"]) == metrics * 2  # the rank metric comes from the run files
    assert (correlation["n_boot"] == 200).all() and correlation["slope_ci_low"].notna().all()
    assert (correlation["resampled"] == "queries × seeds").all()
    slopes = pd.read_csv(out / "tables" / "slopes.tsv", sep="\t", keep_default_na=False)
    assert set(slopes.loc[slopes["scope"] == "tier", "tier"]) == {"low", "mid"}
    assert (pd.read_csv(out / "tables" / "learning_curves.tsv", sep="\t")["target_recall"] == 0.2).all()
    summary = (out / "summary.md").read_text()
    assert "### ny (bench-ny, optical)" in summary and "## Beside the literature" in summary
    assert (out / "tables" / "literature.md").read_text().startswith("| Source |")
    assert "\\toprule" in (out / "tables" / "correlation.tex").read_text()
    assert (out / "plots" / "literature.svg").read_text().lstrip().startswith("<?xml")
    assert (out / "plots" / "slope_forest.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert main(args) == 0  # the same seed gives the same numbers
    pd.testing.assert_frame_equal(correlation, pd.read_csv(out / "tables" / "correlation.tsv", sep="\t"))


def test_without_literature_option_no_literature_outputs(study_dir: Path, tmp_path: Path) -> None:
    assert main(["correlate", str(study_dir / "recall.tsv"), str(tmp_path), "--n-boot", "20", "--n-boot-fit", "5"]) == 0
    for name in LITERATURE_OUTPUTS:
        assert not (tmp_path / OUTPUTS[name]).exists()
    assert "## Beside the literature" not in (tmp_path / "summary.md").read_text()


def test_rule_outputs_are_what_run_writes() -> None:
    """The correlate rule names every output of swimscale.analysis.OUTPUTS, with the same path."""
    from swimscale.config._layout import TABLES

    rule = (ROOT / "workflow" / "rules" / "correlate.smk").read_text()
    declared = dict(re.findall(r"\n\s+(\w+)=report\(\s*LAYOUT\.table\(\"(\w+)\"\)", rule))
    assert declared == {name: name for name in OUTPUTS}  # each output under its own name
    assert {name: TABLES[name] for name in declared} == OUTPUTS  # at the path the analysis writes


def test_minimal_six_column_table_writes_every_table(tmp_path: Path) -> None:
    table, _, _ = study(languages=("ny", "sn"), sizes=SIZES, n_queries=40, seed=6)
    path = tmp_path / "mine.tsv"
    table[MINIMAL_COLUMNS].to_csv(path, sep="\t", index=False)
    out = tmp_path / "out"
    assert main(["correlate", str(path), str(out), "--n-boot", "200", "--n-boot-fit", "20", "--literature", str(LITERATURE)]) == 0
    for path in output_paths(out, flat=True).values():
        assert path.is_file(), path
    correlation = pd.read_csv(out / "tables" / "correlation.tsv", sep="\t")
    assert list(correlation["metric"]) == ["recall_at_50"] * 2 and (correlation["resampled"] == "seeds only").all()
    assert correlation["slope_ci_low"].notna().all() and correlation["zero_shot_ci_low"].isna().all()
    by_size = pd.read_csv(out / "tables" / "recall_by_size.tsv", sep="\t")
    assert by_size.loc[by_size["size"] > 0, "ci_low"].notna().all()
    summary = (out / "summary.md").read_text()
    assert "without run files: the bootstrap resamples seeds only, and N = 0 has no CI" in summary
    assert "× queries unknown" in summary


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "bad.tsv"
    path.write_text(text)
    return path


HEADER = "language\tbenchmark\tmethod\tsize\tseed\trecall_at_50\n"


@pytest.mark.parametrize(
    "text, expected",
    [
        ("language\tbenchmark\tmethod\tsize\tseed\n" + "ny\tb\tm\t0\t0\n", r"bad\.tsv: missing required column\(s\) recall_at_50"),
        (HEADER + "ny\tb\tm\t0\t0\t0.1\nny\tb\tm\t16\t0\tabc\n", r"bad\.tsv, line 3, column recall_at_50: 'abc' is not a number"),
        (HEADER + "ny\tb\tm\t0\t0\t0.1\nny\tb\tm\t-16\t0\t0.2\n", r"bad\.tsv, line 3, column size: '-16' is negative"),
        (HEADER + "ny\tb\tm\t16\t0\t1.5\n", r"bad\.tsv, line 2, column recall_at_50: 1\.5 is outside \[0, 1\]"),
        (HEADER + "ny\tb\tm\t16\t0\t0.1\nny\tb\tm\t16\t1\t0.1\nny\tb\tm\t16\t0\t0.2\n",
         r"bad\.tsv, lines 2, 4: the same run \(language=ny, benchmark=b, method=m, size=16, seed=0\) more than once"),
        (HEADER.replace("\n", "\trun_file\n") + "ny\tb\tm\t16\t0\t0.1\tr.trec\n", r"column run_file without column qrels_file"),
    ],
    ids=["missing-column", "non-numeric", "negative-size", "out-of-range", "duplicate", "run-without-qrels"],
)
def test_bad_tables_exit_2_naming_file_line_and_column(tmp_path: Path, text: str, expected: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "swimscale", "correlate", str(_write(tmp_path, text)), str(tmp_path / "out")],
        capture_output=True, text=True,
    )
    assert result.returncode == 2
    assert re.search(expected, result.stderr), result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and not (tmp_path / "out").exists()


def test_missing_run_file_exits_2_naming_it(study_dir: Path, tmp_path: Path, monkeypatch, capsys) -> None:
    table = pd.read_csv(study_dir / "recall.tsv", sep="\t")
    table.loc[5, "run_file"] = "runs/nowhere.trec"
    path = study_dir / "missing_run.tsv"
    table.to_csv(path, sep="\t", index=False)
    monkeypatch.chdir(tmp_path)
    assert main(["correlate", str(path), str(tmp_path / "out"), "--n-boot", "10"]) == 2
    err = capsys.readouterr().err
    assert "run_file 'runs/nowhere.trec' not found" in err and len(err.strip().splitlines()) == 1


def test_table_disagreeing_with_its_runs_exits_2(study_dir: Path, tmp_path: Path, capsys) -> None:
    table = pd.read_csv(study_dir / "recall.tsv", sep="\t")
    table.loc[4, "recall_at_50"] += 0.1
    path = study_dir / "stale.tsv"
    table.to_csv(path, sep="\t", index=False)
    assert main(["correlate", str(path), str(tmp_path / "out"), "--n-boot", "10"]) == 2
    assert "the table and the run files disagree" in capsys.readouterr().err


def test_bad_option_values_exit_2(study_dir: Path, tmp_path: Path, capsys) -> None:
    assert main(["correlate", str(study_dir / "recall.tsv"), str(tmp_path), "--target-recall", "0"]) == 2
    assert "target recall must be in (0, 1], got 0.0" in capsys.readouterr().err
    assert main(["correlate", str(study_dir / "recall.tsv"), str(tmp_path), "--level", "1.5"]) == 2
    assert "confidence level must be in (0, 1), got 1.5" in capsys.readouterr().err


def test_cli_on_the_workflows_table_says_its_warnings_and_caps(tmp_path: Path) -> None:
    """recall.tsv with the training and data columns, through the TSV and the command line: the summary
    is the same as the one written from the records (warnings first, the cap-bound runs named)."""
    from swimscale.analysis import build_recall_table, run, sweep_records
    from tests.analysis.synthetic import validate_report, write_sweep

    table, _, ranks = study(languages=("ny",), sizes=SIZES, n_queries=40, seed=7)
    write_study_files(tmp_path, table, ranks)
    report = validate_report({"bench-ny": ("test", 45, 3, 1, {}, {}), "bench-ny-dev": ("dev", 300, 0, 0, {}, {})})
    points = write_sweep(tmp_path, table, lambda n, s: n == 4096 and s == 0, {"ny": report})
    recall = build_recall_table(sweep_records(points, {"ny": str(tmp_path / "validate/ny/report.json")}, "converged"))
    write_tsv(recall, tmp_path / "recall.tsv")
    options = ["--n-boot", "100", "--n-boot-fit", "10"]
    assert main(["correlate", str(tmp_path / "recall.tsv"), str(tmp_path / "cli"), *options]) == 0
    run(recall, output_paths(tmp_path / "direct", literature=False), table_dir=tmp_path,
        settings={"n_boot": 100, "n_boot_fit": 10})
    summary = (tmp_path / "cli" / "summary.md").read_text()
    assert summary == (tmp_path / "direct" / "summary.md").read_text()
    assert summary.splitlines()[4] == "- ny: bench-ny: small_corpus: 45 documents, at most 50: Recall@50 is 1 for every run."
    assert "The cap bound at N = 4,096: seed 0 (best at 600 of 600 updates)" in summary
    assert "found 3 pool passage(s) that are relevant documents of bench-ny's queries (left out of training)" in summary
    back = pd.read_csv(tmp_path / "cli" / "tables" / "recall.tsv", sep="\t")
    assert list(back.columns) == list(recall.columns)


def test_a_table_without_benchmark_column_gives_the_across_language_tables(tmp_path: Path) -> None:
    """The issue's minimal table: language, method, size, seed, the metric, tier and benchmark_family;
    no benchmark column (each language has one, named by its family)."""
    table, _, _ = study(languages=("ny", "sn", "yo"), sizes=SIZES, n_queries=40, seed=6)
    table = table[["language", "method", "size", "seed", "recall_at_50"]].assign(tier="very-low", benchmark_family="fam")
    path = tmp_path / "minimal.tsv"
    table.to_csv(path, sep="\t", index=False)
    assert main(["correlate", str(path), str(tmp_path / "out"), "--n-boot", "20", "--n-boot-fit", "5"]) == 0
    across = pd.read_csv(tmp_path / "out" / "across_languages.tsv", sep="\t")
    assert {"slope", "slope_low", "slope_high", "tau", "pi_low", "pi_high", "i2", "rmcorr", "rmcorr_low",
            "rmcorr_high", "n_languages"} <= set(across.columns)
    assert list(across["family"]) == ["fam"] and list(across["n_languages"]) == [3]
    assert "p_holm" in pd.read_csv(tmp_path / "out" / "method_contrasts.tsv", sep="\t").columns
    assert (tmp_path / "out" / "moderators.tsv").exists()
