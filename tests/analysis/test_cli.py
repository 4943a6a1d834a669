"""`python -m swimscale correlate` on a synthetic study with real run and qrels files."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from tests.analysis.synthetic import study, write_study_files

from swimscale.__main__ import main
from swimscale.analysis import OUTPUTS, write_tsv


@pytest.fixture(scope="module")
def study_dir(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("study")
    table, _, ranks = study(languages=("ny", "sn"), n_queries=40, seed=5)
    write_study_files(root, table, ranks)
    write_tsv(table, root / "recall.tsv")
    (root / "languages.tsv").write_text("code\ttier\nny\tlow\nsn\tmid\n")
    return root


def test_cli_writes_every_output(study_dir: Path, tmp_path: Path, monkeypatch, capsys) -> None:
    # Run from elsewhere: the table's relative paths resolve against its own directory.
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "out"
    args = ["correlate", str(study_dir / "recall.tsv"), str(out), "--tiers", str(study_dir / "languages.tsv")]
    assert main([*args, "--n-boot", "200", "--n-boot-fit", "20", "--target-recall", "0.2", "--seed", "3"]) == 0
    for rel in OUTPUTS.values():
        assert (out / rel).is_file() and (out / rel).stat().st_size > 0, rel
    correlation = pd.read_csv(out / "tables" / "correlation.tsv", sep="\t")
    assert len(correlation) == 2 * 4 and set(correlation["metric"]) == {
        "recall_at_50", "recall_at_100", "ndcg_at_10", "mrr_at_10"
    }
    assert (correlation["n_boot"] == 200).all() and correlation["spearman_ci_low"].notna().all()
    slopes = pd.read_csv(out / "tables" / "slopes.tsv", sep="\t", keep_default_na=False)
    assert set(slopes.loc[slopes["scope"] == "tier", "tier"]) == {"low", "mid"}
    curves = pd.read_csv(out / "tables" / "learning_curves.tsv", sep="\t")
    assert (curves["target_recall"] == 0.2).all()
    summary = (out / "summary.md").read_text()
    assert "### ny (bench-ny, optical)" in summary and "### sn (bench-sn, optical)" in summary
    assert "Spearman ρ =" in summary and "tier low" in summary and "slopes differ between tiers?" in summary
    assert (out / "tables" / "correlation.md").read_text().startswith("| Language |")
    assert "\\toprule" in (out / "tables" / "correlation.tex").read_text()
    assert (out / "plots" / "recall_vs_n.svg").read_text().lstrip().startswith("<?xml")
    assert (out / "plots" / "slope_forest.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # The same seed gives the same numbers.
    assert main([*args, "--n-boot", "200", "--n-boot-fit", "20", "--target-recall", "0.2", "--seed", "3"]) == 0
    again = pd.read_csv(out / "tables" / "correlation.tsv", sep="\t")
    pd.testing.assert_frame_equal(correlation, again)


def _table_without(study_dir: Path, tmp_path: Path, column: str) -> Path:
    table = pd.read_csv(study_dir / "recall.tsv", sep="\t").drop(columns=[column])
    path = tmp_path / "broken.tsv"
    table.to_csv(path, sep="\t", index=False)
    return path


def test_missing_column_exits_2_naming_it(study_dir: Path, tmp_path: Path) -> None:
    broken = _table_without(study_dir, tmp_path, "qrels_file")
    result = subprocess.run(
        [sys.executable, "-m", "swimscale", "correlate", str(broken), str(tmp_path / "out")],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert "qrels_file" in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()


def test_missing_run_file_exits_2_naming_it(study_dir: Path, tmp_path: Path, monkeypatch, capsys) -> None:
    table = pd.read_csv(study_dir / "recall.tsv", sep="\t")
    table.loc[5, "run_file"] = "runs/nowhere.trec"
    path = study_dir / "missing_run.tsv"
    table.to_csv(path, sep="\t", index=False)
    monkeypatch.chdir(tmp_path)
    assert main(["correlate", str(path), str(tmp_path / "out"), "--n-boot", "10"]) == 2
    err = capsys.readouterr().err
    assert "runs/nowhere.trec" in err and "run_file" in err and len(err.strip().splitlines()) == 1


def test_table_disagreeing_with_its_runs_exits_2(study_dir: Path, tmp_path: Path, capsys) -> None:
    table = pd.read_csv(study_dir / "recall.tsv", sep="\t")
    table.loc[4, "recall_at_50"] += 0.1
    path = study_dir / "stale.tsv"
    table.to_csv(path, sep="\t", index=False)
    assert main(["correlate", str(path), str(tmp_path / "out"), "--n-boot", "10"]) == 2
    assert "disagree" in capsys.readouterr().err


def test_bad_option_values_exit_2(study_dir: Path, tmp_path: Path, capsys) -> None:
    assert main(["correlate", str(study_dir / "recall.tsv"), str(tmp_path), "--target-recall", "0"]) == 2
    assert "target recall" in capsys.readouterr().err
