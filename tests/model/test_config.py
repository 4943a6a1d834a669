"""The code's training settings agree with the config schema, the one home of their defaults, and the
cross-key checks name their keys."""

import dataclasses

import pytest

from swimscale.config import defaults, load_schema, validated
from swimscale.config._train import training_problems
from swimscale.errors import InputError
from swimscale.model import METHODS, POOLINGS, TrainConfig

FROM_ELSEWHERE = ["pooling", "teacher_max_length", "seed"]


def build(**overrides):
    return TrainConfig.from_config({**defaults("train"), **overrides}, pooling="mean", teacher_max_length=128, seed=0)


def test_train_config_fields_are_the_schema_train_keys_plus_what_comes_from_elsewhere():
    train = load_schema()["properties"]["train"]["properties"]
    names = [f.name for f in dataclasses.fields(TrainConfig)]
    assert sorted(names) == sorted([*train, *FROM_ELSEWHERE])
    assert sorted(TrainConfig.train_keys()) == sorted(train)
    assert all("default" in spec for spec in train.values())  # callers may build from the defaults alone


def test_train_config_restates_no_default():
    for f in dataclasses.fields(TrainConfig):
        assert f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING, f.name


def test_train_config_from_the_schema_defaults():
    cfg = TrainConfig.from_config(defaults("train"), pooling="cls", teacher_max_length=256, seed=4)
    assert {key: getattr(cfg, key) for key in TrainConfig.train_keys()} == defaults("train")
    assert (cfg.pooling, cfg.teacher_max_length, cfg.seed) == ("cls", 256, 4)
    assert build(lr=3e-5).lr == 3e-5


def test_train_config_names_missing_and_unknown_keys():
    incomplete = {key: value for key, value in defaults("train").items() if key != "tau"}
    with pytest.raises(InputError, match=r"missing keys \['tau'\], unknown keys \[\]"):
        TrainConfig.from_config(incomplete, pooling="mean", teacher_max_length=128, seed=0)
    with pytest.raises(InputError, match=r"missing keys \[\], unknown keys \['learning_rate'\]"):
        TrainConfig.from_config({**defaults("train"), "learning_rate": 1}, pooling="mean", teacher_max_length=128,
                                seed=0)


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
