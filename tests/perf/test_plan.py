"""`swimscale plan`: the counts it makes from a config, the device table, and its command line."""

import copy

import pytest
import yaml

from swimscale.__main__ import main
from swimscale.config import validated
from swimscale.plan import (Run, forward_flops, language_states, parameters, plan, pool_pairs, read_devices, runs,
                            state_bytes, updates)
from swimscale.plan._costs import (COMPILE_S, COUNTERPART_S, COUNTERPART_TOKENS, QUERY_S_PER_RECORD,
                                   READ_S_PER_RECORD, job_key, teacher_mode)
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
    assert (p["jobs"], p["students"]) == (32, 3036)  # students_per_job: language
    assert p["compiled"] and p["syncs_per_update"] == {False: 1, True: 2}
    assert main(["plan", "--configfile", str(STUDY), "--device", "a100"]) == 0
    out = capsys.readouterr().out
    for label in ("updates", "GPU-hours: total", "per-job overhead", "peak GPU memory", "host syncs per update"):
        assert label in out
    assert main(["plan", "--configfile", str(STUDY), "--device", "tpu"]) == 2


def test_checkpoint_writes_follow_the_interval(study):
    from swimscale.plan._plan import checkpoint_writes

    hours = {"job_updates": [1000, 300_000], "mean_update_ms": 10.0}  # 10 s and 50 min of updates
    assert checkpoint_writes({**study, "checkpoint_every": 500, "checkpoint_minutes": 30}, hours) == 1
    assert checkpoint_writes({**study, "checkpoint_every": 500, "checkpoint_minutes": 0}, hours) == 2 + 600
    assert checkpoint_writes({**study, "checkpoint_every": 0, "checkpoint_minutes": 30}, hours) == 0


def test_students_per_job_sets_the_jobs_and_the_start_ups_are_paid_once_per_job(study):
    h100 = read_devices()["h100"]
    groups = ("one", "seeds", "sizes_and_seeds", "language")
    plans = {group: plan({**study, "students_per_job": group}, h100) for group in groups}
    trained = [c for c in study["languages"] if study["pools"][c]["source"] != "none"]
    sizes = sum(len([n for n in (study["pools"][c].get("sizes") or study["sizes"]) if n > 0]) for c in trained)
    assert [plans[g]["jobs"] for g in groups] == [3036, sizes * 4, len(trained) * 4, len(trained)]
    assert {plans[g]["students"] for g in plans} == {3036}
    per_job = h100.overhead_s + COMPILE_S
    # each student's set-up at most: its sample read, tokenised and its counterparts tokenised (each once,
    # however the job shares them), its states and the teacher's weights copied (< 6 s)
    setup = sum(r.n * (READ_S_PER_RECORD + QUERY_S_PER_RECORD + COUNTERPART_S) + 6 for r in runs(study)) / 3600
    for group, p in plans.items():
        fixed = p["jobs"] * per_job / 3600
        assert fixed < p["hours"]["expected"]["overhead"] < fixed + setup, group
    # a coarser job shares more: its seed's teacher states and tokenised queries serve more students
    compute = [plans[g]["hours"]["expected"]["compute"] for g in groups]
    assert compute == sorted(compute, reverse=True) and compute[-1] < compute[0]
    assert plans["language"]["hours"]["expected"]["overhead"] < plans["one"]["hours"]["expected"]["overhead"] / 10
    assert job_key(study, Run("hi", 100, 2, "pooled")) == ("hi",)
    assert job_key({**study, "students_per_job": "sizes_and_seeds"}, Run("hi", 100, 2, "pooled")) == ("hi", "pooled")


def test_the_teacher_states_are_computed_once_per_language_and_read_by_its_runs(study):
    h100 = read_devices()["h100"]
    indic = [c for c in study["languages"] if study["pools"][c].get("cap_sizes")]
    assert len(indic) == 15 and all(language_states(study, c) for c in indic) and not language_states(study, "hi")
    assert not language_states({**study, "allow_cpu": True}, "bho")  # a CPU study precomputes per run
    assert state_bytes(5800) / 2**30 < study["train"]["teacher_cache_gib"]
    p = plan(study, h100)
    assert p["state_languages"] == sorted(indic)
    assert p["states_flops"] == pytest.approx(sum(pool_pairs(study, c) for c in indic) * forward_flops(COUNTERPART_TOKENS))
    assert p["modes"]["language"] == sum(1 for r in runs(study) if r.code in indic)
    # a large language: its job holds each seed's largest sample's states (256k pairs, tokens: ~50 GiB)
    # in host memory, within teacher_host_gib; else the run's own where they fit, else on the fly
    assert teacher_mode(study, Run("hi", 256000, 0, "optical"), True) == "job"
    assert teacher_mode(study, Run("hi", 100, 0, "pooled"), True) == "job"
    small = {**study, "train": {**study["train"], "teacher_host_gib": 1}}
    assert teacher_mode(small, Run("hi", 256000, 0, "pooled"), True) == "precompute"
    assert teacher_mode(small, Run("hi", 256000, 0, "optical"), True) == "on_the_fly"
    assert teacher_mode(small, Run("hi", 10000, 0, "optical"), True) == "precompute"
    assert teacher_mode(study, Run("bho", 5800, 0, "optical"), False) == "precompute"  # the cpu row
    fly = plan({**study, "train": {**study["train"], "teacher_tokens": "on_the_fly"}}, h100)
    assert fly["states_flops"] == 0 and fly["hours"]["expected"]["compute"] > p["hours"]["expected"]["compute"]
    assert p["peak_memory"] > fly["peak_memory"]  # the states a job holds on its GPU count in its memory


def test_a_jobs_teacher_states_are_computed_once_per_seed_for_its_largest_sample(study):
    h100 = read_devices()["h100"]
    p = plan(study, h100)
    large = [c for c in study["languages"] if study["pools"][c]["source"] != "none"
             and not study["pools"][c].get("cap_sizes")]
    seeds = sum(len(study["pools"][c].get("seeds") or study["seeds"]) for c in large)
    assert p["job_seeds"] == seeds == 16 * 3 + 5  # te has 5 seeds
    assert p["job_teacher_flops"] == pytest.approx(seeds * 256000 * forward_flops(COUNTERPART_TOKENS))
    assert p["modes"]["job"] == sum(1 for r in runs(study) if r.code in large) and "on_the_fly" not in p["modes"]
    assert p["host_bytes"] == state_bytes(256000, True) and 45 < p["host_bytes"] / 2**30 < study["train"]["teacher_host_gib"]
    # per (language, method) jobs compute each seed's states once per method: four times the teacher
    by_method = plan({**study, "students_per_job": "sizes_and_seeds"}, h100)
    assert by_method["job_teacher_flops"] == pytest.approx(4 * p["job_teacher_flops"])


@pytest.mark.parametrize("n", [100, 300, 1000, 5800, 30000, 256000])
def test_the_planned_updates_are_the_selection_rules_for_its_assumed_curves(study, n):
    """Selection (the training loop's budget rule) run on two assumed dev curves: the untrained student
    never beaten (the earliest stop) and a best after one pass (the expected length)."""
    from swimscale.config import TrainSettings
    from swimscale.model import Selection

    train = TrainSettings.from_section(study["train"])
    planned = updates(study["train"], n)

    def length(recall_at):
        rule = Selection.from_settings(train, n, min(train.batch_size, n), evaluates=True)
        step = 0
        rule.record(0, recall_at(0, rule))
        while rule.stop(step) is None:
            step += 1
            if rule.due(step):
                rule.record(step, recall_at(step, rule))
        return step

    assert length(lambda step, rule: 1.0 - step * 1e-9) == planned["least"]
    # rising until one pass, then falling: the best is the first evaluation at or after one pass
    assert length(lambda step, rule: rule.passes_after(step) if rule.passes_after(step) < 1
                  else 10 - rule.passes_after(step)) == planned["expected"]


def test_the_optimiser_traffic_counts_the_trained_parameters_only(study):
    from swimscale.plan import per_update
    from swimscale.plan._costs import ADAMW_BYTES, trained_parameters

    embedding, body = parameters()
    every = {**study["train"], "embedding_rows": "all"}
    assert trained_parameters(every) == embedding + body
    # the study trains only the rows of its sample's word pieces: at most 20 a query, at most half the vocabulary
    assert study["train"]["embedding_rows"] == "sample"
    assert trained_parameters(study["train"], n=100) == embedding + body - (119547 - 2000) * 768
    assert trained_parameters(study["train"], n=256000) == embedding + body - (119547 - 59774) * 768
    assert per_update(study, False, n=100)[1] < per_update(study, False, n=256000)[1] < per_update(
        {**study, "train": every}, False)[1]
    frozen = {**study["train"], "freeze_embeddings": True}
    assert trained_parameters(frozen) == body
    assert trained_parameters({**frozen, "trainable_layers": 12}) == body  # the top 12 of 12 layers and the pooler
    assert per_update({**study, "train": frozen}, False)[1] == ADAMW_BYTES * body


def test_the_docs_quote_the_plan_as_printed_and_the_readme_its_hours(study):
    """docs/cost.md and docs/full_study.md paste the plan's output; README.md quotes its expected and
    cap GPU-hours: a change of the plan or of the config that they no longer show fails here."""
    import re

    from swimscale.plan import describe

    p = plan(study, read_devices()["h100"])
    command = "$ python -m swimscale plan --configfile config/full_study.yaml\n"
    for doc in ("docs/cost.md", "docs/full_study.md"):
        blocks = re.findall(r"```\n" + re.escape(command) + r"(.*?)\n```", (ROOT / doc).read_text(), re.S)
        assert blocks == [describe(p)], doc
    readme = " ".join((ROOT / "README.md").read_text().split())
    found = re.search(r"plans its cost: ([\d.,]+) GPU-hours expected on an H100 at an assumed 25 % of peak, "
                      r"([\d.,]+) at the cap", readme)
    assert found and found.groups() == (f"{p['hours']['expected']['total']:,.1f}", f"{p['hours']['cap']['total']:,.1f}")
    assert read_devices()["h100"].efficiency == 0.25
