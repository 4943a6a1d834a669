"""The training settings' cross-key checks name their keys, and the model's methods and poolings are the
schema's (the settings objects themselves: tests/config/test_settings.py)."""

import pytest

from swimscale.config import TrainSettings, defaults, load_schema, validated
from swimscale.config._train import training_problems
from swimscale.errors import InputError
from swimscale.model import METHODS, POOLINGS


def build(**overrides):
    return TrainSettings.from_section({**defaults("train"), **overrides})


@pytest.mark.parametrize(("bad", "fixed", "message"), [
    ({"min_steps": 300, "max_steps": 200}, {"min_steps": 200}, r"min_steps \(300\) exceeds max_steps \(200\)"),
    ({"eval_every": 500, "max_steps": 200}, {"budget": "fixed"}, r"eval_every \(500\) exceeds max_steps \(200\)"),
    ({"trainable_layers": 2}, {"freeze_embeddings": True}, "trainable_layers is set.*freeze_embeddings is false"),
])
def test_cross_key_problems_name_their_keys(bad, fixed, message):
    with pytest.raises(InputError, match=message):
        build(**bad)
    build(**{**bad, **fixed})  # and the fix named in the message is accepted


def test_converged_budget_needs_one_dev_benchmark_per_trained_language(tiny_config):
    """The tiny config with its dev benchmark passes; without it, or with two, the language is named;
    a fixed budget, or a language that trains nothing, needs none."""
    config = validated(tiny_config)
    dev = [name for name, bench in config["benchmarks"].items() if bench.get("role") == "dev"]
    assert config["train"]["budget"] == "converged" and len(dev) == 1 and training_problems(config) == []
    without = {**config, "benchmarks": {k: v for k, v in config["benchmarks"].items() if k not in dev}}
    (problem,) = training_problems(without)
    assert "language 'ny'" in problem and "found none" in problem
    twice = {**config, "benchmarks": {**config["benchmarks"], "second-dev": config["benchmarks"][dev[0]]}}
    assert "found " + ", ".join(sorted([dev[0], "second-dev"])) in training_problems(twice)[0]
    assert training_problems({**without, "train": {**config["train"], "budget": "fixed"}}) == []
    assert training_problems({**without, "sizes": [0], "pools": {"ny": {**config["pools"]["ny"], "sizes": None}}}) == []


def test_methods_and_poolings_are_the_schema_enums():
    schema = load_schema()["properties"]
    assert list(METHODS) == schema["methods"]["items"]["enum"] == ["optical", "optical_pooled", "pooled", "contrastive"]
    assert schema["methods"]["default"][0] in METHODS
    assert list(POOLINGS) == schema["teacher"]["properties"]["pooling"]["enum"]
