"""`swimscale plan`: the counts it makes from a config, the device table, and its command line."""

import copy

import pytest
import yaml

from swimscale.__main__ import main
from swimscale.config import validated
from swimscale.plan import forward_flops, parameters, plan, read_devices, runs, updates
from tests.conftest import ROOT

STUDY = ROOT / "config" / "full_study.yaml"


@pytest.fixture(scope="module")
def study():
    return validated(yaml.safe_load(STUDY.read_text()))


def test_the_full_studys_runs_are_its_students(study):
    all_runs = runs(study)
    # 17 languages × 8 sizes + 15 Indic languages × 5 sizes, × 4 methods (docs/full_study.md); 3 seeds, but
    # 5 for the 12 very-low languages (te, at 8 sizes, and 11 Indic ones); the 4 zero-data controls train nothing
    assert len(all_runs) == (16 * 8 * 3 + 1 * 8 * 5 + 11 * 5 * 5 + 4 * 5 * 3) * 4 == 3036
    assert not [r for r in all_runs if r.code in ("brx", "gbm", "hne", "mwr")]
    assert max(r.n for r in all_runs if r.code == "bho") == 5800


def test_the_plan_reads_per_language_seeds_and_methods(study):
    config = copy.deepcopy(study)
    config["pools"]["bho"]["seeds"] = [0, 1, 2, 3, 4, 5, 6]  # 5 in the study
    config["pools"]["bho"]["methods"] = [*config["methods"], "zero_data"]
    assert len(runs(config)) == len(runs(study)) + 5 * (7 * 5 - 5 * 4)


def test_update_bounds_of_the_converged_budget():
    train = {"budget": "converged", "max_steps": 24000, "min_steps": 1000, "eval_every": 250, "patience": 5,
             "batch_size": 32}
    # 100 pairs: one pass (4 updates) ends before the first evaluation, at 250; then 5 evaluations more
    assert updates(train, 100) == {"least": 1250, "expected": 1500, "cap": 24000}
    # 256k pairs: 8,000 updates a pass, the best after one pass, then 5 evaluations
    assert updates(train, 256000) == {"least": 1250, "expected": 9250, "cap": 24000}
    assert updates({**train, "budget": "fixed"}, 100) == {"least": 24000, "expected": 24000, "cap": 24000}
    assert updates({**train, "max_passes": 2}, 3200)["cap"] == 200


def test_forward_flops_are_two_per_parameter_per_token_plus_attention():
    _, body = parameters()
    assert 85e6 < body < 86e6  # mBERT's encoder
    assert forward_flops(1) == pytest.approx(2 * body, rel=1e-3)


def test_every_device_row_has_its_figures_and_a_source():
    devices = read_devices()
    assert {"h100", "a100", "l4", "cpu"} <= set(devices)
    assert all(d.peak_flops > 0 and d.bandwidth > 0 and 0 < d.efficiency <= 1 and d.source for d in devices.values())
    assert devices["h100"].peak_flops == pytest.approx(989.4e12)


def test_plan_prints_hours_expected_and_at_the_cap(study, capsys):
    p = plan(study, read_devices()["h100"])
    hours = p["hours"]
    assert hours["least"]["total"] < hours["expected"]["total"] < hours["cap"]["total"]
    assert p["jobs"] == 3036 and p["syncs_per_update"] == 3
    assert main(["plan", "--configfile", str(STUDY), "--device", "a100"]) == 0
    out = capsys.readouterr().out
    for label in ("updates", "GPU-hours: total", "per-job overhead", "peak GPU memory", "host syncs per update"):
        assert label in out
    assert main(["plan", "--configfile", str(STUDY), "--device", "tpu"]) == 2


def test_checkpoint_writes_follow_the_interval(study):
    from swimscale.plan._plan import checkpoint_writes

    hours = {"job_updates": [1000, 300_000], "update_ms": 10.0}  # 10 s and 50 min of updates
    assert checkpoint_writes({**study, "checkpoint_every": 500, "checkpoint_minutes": 30}, hours) == 1
    assert checkpoint_writes({**study, "checkpoint_every": 500, "checkpoint_minutes": 0}, hours) == 2 + 600
    assert checkpoint_writes({**study, "checkpoint_every": 0, "checkpoint_minutes": 30}, hours) == 0
