"""perf/power.py: the CI half-width of a per-language slope for the full study's sizes and seeds."""

import importlib.util
import math
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location("power", ROOT / "perf" / "power.py")
power = importlib.util.module_from_spec(spec)
spec.loader.exec_module(power)


def test_the_demo_table_reproduces_the_reported_slope():
    measured = power.spread(power.DEMO)
    assert measured["mean_slope"] == pytest.approx(power.DEMO_REPORTED[0], abs=5e-5)  # README's +0.0437
    assert power.DEMO_REPORTED[1] < measured["mean_slope"] < power.DEMO_REPORTED[2]
    # the slope of a line is its slope per doubling
    assert power.slope([1, 2, 4, 8], [0.1, 0.2, 0.3, 0.4]) == pytest.approx(0.1)


def test_more_seeds_and_a_wider_range_narrow_the_interval():
    measured = power.spread(power.DEMO)
    five = power.design_row("5", [100, 300, 1000, 3000, 5800], 5, measured)
    three = power.design_row("3", [100, 300, 1000, 3000, 5800], 3, measured)
    wide = power.design_row("wide", [100, 1000, 10000, 100000], 3, measured)
    assert five["half_width"] < three["half_width"] and five["half_width_all"] < three["half_width_all"]
    assert wide["half_width"] < three["half_width"]
    # seeds alone: t(0.975, S - 1) · sd / √S, exactly
    assert three["half_width"] == pytest.approx(4.3027 * three["sd_b"] / math.sqrt(3), rel=1e-4)
    assert three["half_width_all"] > three["half_width"] and three["mde_all"] > three["half_width_all"]


def test_a_recall_table_can_replace_the_demo(tmp_path):
    rows = ["language\tbenchmark\tmethod\tsize\tseed\trecall_at_50"]
    rows += [f"ny\tb\toptical\t{n}\t{s}\t{v}" for n, values in power.DEMO.items() for s, v in enumerate(values)]
    rows += ["ny\tb\toptical\t0\t0\t0.04", "ny\tb\tpooled\t10\t0\t0.9"]
    (tmp_path / "recall.tsv").write_text("\n".join(rows) + "\n")
    assert power.read_recall(str(tmp_path / "recall.tsv"), "optical", "ny", None) == power.DEMO
