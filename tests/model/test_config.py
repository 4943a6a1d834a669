"""The code's training settings agree with the config schema, the one home of their defaults."""

import dataclasses

import pytest

from swimscale.config import defaults, load_schema
from swimscale.errors import InputError
from swimscale.model import METHODS, POOLINGS, TrainConfig


def test_train_config_fields_are_the_schema_train_keys_plus_pooling_and_seed():
    train = load_schema()["properties"]["train"]["properties"]
    names = [f.name for f in dataclasses.fields(TrainConfig)]
    assert sorted(names) == sorted([*train, "pooling", "seed"])
    assert sorted(TrainConfig.train_keys()) == sorted(train)
    assert all("default" in spec for spec in train.values())  # callers may build from the defaults alone


def test_train_config_restates_no_default():
    for f in dataclasses.fields(TrainConfig):
        assert f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING, f.name


def test_train_config_from_the_schema_defaults():
    cfg = TrainConfig.from_config(defaults("train"), pooling="cls", seed=4)
    assert {key: getattr(cfg, key) for key in TrainConfig.train_keys()} == defaults("train")
    assert (cfg.pooling, cfg.seed) == ("cls", 4)
    assert TrainConfig.from_config({**defaults("train"), "lr": 3e-5}, pooling="mean", seed=0).lr == 3e-5


def test_train_config_names_missing_and_unknown_keys():
    incomplete = {key: value for key, value in defaults("train").items() if key != "tau"}
    with pytest.raises(InputError, match=r"missing keys \['tau'\], unknown keys \[\]"):
        TrainConfig.from_config(incomplete, pooling="mean", seed=0)
    with pytest.raises(InputError, match=r"missing keys \[\], unknown keys \['learning_rate'\]"):
        TrainConfig.from_config({**defaults("train"), "learning_rate": 1}, pooling="mean", seed=0)


def test_methods_and_poolings_are_the_schema_enums():
    schema = load_schema()["properties"]
    assert list(METHODS) == schema["methods"]["items"]["enum"]
    assert schema["methods"]["default"][0] in METHODS
    assert list(POOLINGS) == schema["teacher"]["properties"]["pooling"]["enum"]
