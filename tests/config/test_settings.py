"""The settings objects (swimscale.config.Settings and its sections) are the schema's sections, typed:
every field a key of its section, no default of their own (the schema's reach them), and their
serialised form (what a rule hands a job) gives back the same object."""

import copy
import dataclasses
import json
from pathlib import Path

import pytest
import yaml

from swimscale.config import SearchSettings, Settings, TeacherSettings, TrainSettings, defaults, load_schema, validated
from swimscale.config import _schema
from swimscale.errors import InputError

ROOT = Path(__file__).resolve().parents[2]
SECTIONS = [TeacherSettings, TrainSettings, SearchSettings]
CONFIGS = ["config/config.yaml", "config/full_study.yaml", "tests/fixtures/tiny_config.yaml"]


@pytest.mark.parametrize("kind", SECTIONS, ids=lambda kind: kind.SECTION)
def test_fields_are_the_keys_of_their_section_and_have_no_default(kind):
    section = load_schema()["properties"][kind.SECTION]["properties"]
    assert sorted(kind.keys()) == sorted(section)
    for field in dataclasses.fields(kind):
        assert field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING, field.name
    # The keys a user need not give all have a schema default (the teacher's name and model are required).
    assert {key for key, spec in section.items() if "default" not in spec} <= {"name", "model"}


@pytest.mark.parametrize("name", CONFIGS)
def test_settings_round_trip_through_their_serialised_form(name):
    settings = Settings.from_config(validated(yaml.safe_load((ROOT / name).read_text())))
    params = settings.to_params()
    assert json.loads(json.dumps(params)) == params  # JSON-able: what Snakemake stores of a job's params
    assert Settings.from_params(params) == settings
    for kind in SECTIONS:
        section = getattr(settings, kind.SECTION)
        assert type(section) is kind and kind.from_params(section.to_params()) == section
        assert params[kind.SECTION] == section.to_params()
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.train.lr = 1.0


# A new default for some keys of each section (valid values, all different from the schema's).
NEW_DEFAULTS = {
    "teacher": {"max_length": 77, "batch_size": 5, "pooling": "cls", "normalize": False,
                "passage_format": "{title}. {text}"},
    "train": {"max_length": 99, "lr": 0.5, "patience": 9, "trainable_layers": 2, "freeze_embeddings": True},
    "search": {"k": 123},
}


def test_a_schema_default_reaches_the_settings(monkeypatch, tiny_config):
    """The keys a config leaves out take the schema's default: change it in a copy of the schema and
    the object built from the same config changes with it."""
    config = copy.deepcopy(tiny_config)
    for section, changes in NEW_DEFAULTS.items():
        config.setdefault(section, {})
        for key in changes:
            config[section].pop(key, None)
    before = Settings.from_config(validated(config))
    for section, changes in NEW_DEFAULTS.items():
        assert {key: getattr(getattr(before, section), key) for key in changes} == {
            key: defaults(section)[key] for key in changes}

    schema = load_schema()
    for section, changes in NEW_DEFAULTS.items():
        for key, value in changes.items():
            assert schema["properties"][section]["properties"][key]["default"] != value
            schema["properties"][section]["properties"][key]["default"] = value
    monkeypatch.setattr(_schema, "_schema", lambda: schema)
    after = Settings.from_config(validated(config))
    for section, changes in NEW_DEFAULTS.items():
        assert {key: getattr(getattr(after, section), key) for key in changes} == changes
    assert after.train.cached and not before.train.cached


def test_a_missing_or_unknown_key_is_named():
    with pytest.raises(InputError, match=r"config 'train': missing keys \['tau'\], unknown keys \[\]"):
        TrainSettings.from_section({key: value for key, value in defaults("train").items() if key != "tau"})
    with pytest.raises(InputError, match=r"config 'search': missing keys \[\], unknown keys \['top_k'\]"):
        SearchSettings.from_params({"k": 100, "top_k": 5})
    with pytest.raises(InputError, match=r"config 'teacher': missing keys \['name', 'model'\]"):
        TeacherSettings.from_section(defaults("teacher"))


def test_the_train_sections_cross_key_checks_run_when_it_is_built():
    with pytest.raises(InputError, match=r"min_steps \(300\) exceeds max_steps \(200\)"):
        TrainSettings.from_section({**defaults("train"), "min_steps": 300, "max_steps": 200})
    with pytest.raises(InputError, match="trainable_layers is set.*freeze_embeddings is false"):
        TrainSettings.from_params({**defaults("train"), "trainable_layers": 1})
