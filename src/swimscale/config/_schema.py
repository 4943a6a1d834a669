"""The JSON schema of the config (workflow/schemas/config.schema.yaml): the one home of every default.

Snakemake validates the config against it and fills in the defaults when it builds the DAG (after
:func:`check_schema` has named the first bad key in one line); library callers outside Snakemake
(tests, the command line, speed scripts) read the same defaults here, so no code restates a default.
"""

from __future__ import annotations

import copy
import functools
from pathlib import Path
from typing import Any

from swimscale.errors import InputError

# The package's copy is a symbolic link to workflow/schemas/config.schema.yaml (the Snakemake catalog's
# place for it); a wheel built from the checkout carries the file itself.
SCHEMA_PATH = Path(__file__).with_name("config.schema.yaml")


@functools.cache
def _schema() -> dict[str, Any]:
    import yaml

    return yaml.safe_load(SCHEMA_PATH.read_text(encoding="utf-8"))


def load_schema() -> dict[str, Any]:
    """The schema as a dict (a copy: callers may change it)."""
    return copy.deepcopy(_schema())


def defaults(section: str) -> dict[str, Any]:
    """The defaults of one object-valued section of the config (e.g. ``"train"``, ``"analysis"``):
    {key: default} for every key of the section that has one. For ``"pools"`` and ``"benchmarks"``,
    whose entries are named by the user, the defaults of one entry."""
    properties = _schema()["properties"]
    if section not in properties or properties[section].get("type") != "object":
        raise KeyError(f"the config schema has no section {section!r}")
    spec = properties[section]
    if "properties" not in spec and isinstance(spec.get("additionalProperties"), dict):
        spec = spec["additionalProperties"]  # pools.<code>, benchmarks.<name>
    return {key: copy.deepcopy(item["default"]) for key, item in spec.get("properties", {}).items() if "default" in item}


def validated(config: dict[str, Any]) -> dict[str, Any]:
    """A copy of `config` validated against the schema with its defaults filled in, nested entries
    included: what Snakemake's `validate` (workflow/rules/common.smk) makes of it, for callers outside
    Snakemake (tests, the command line). Raises jsonschema's ValidationError naming the key."""
    import jsonschema

    def fill_defaults(validator, properties, instance, schema):
        if validator.is_type(instance, "object"):
            for key, spec in properties.items():
                if "default" in spec:
                    instance.setdefault(key, copy.deepcopy(spec["default"]))
        yield from jsonschema.Draft202012Validator.VALIDATORS["properties"](validator, properties, instance, schema)

    filling = jsonschema.validators.extend(jsonschema.Draft202012Validator, {"properties": fill_defaults})
    config = copy.deepcopy(config)
    filling(_schema()).validate(config)
    return config


def check_schema(config: dict[str, Any]) -> None:
    """Validates `config` against the schema; the first error (jsonschema's best match) raises InputError
    naming the key and the problem in one line — not the schema, which Snakemake's own message prints."""
    import jsonschema

    error = jsonschema.exceptions.best_match(jsonschema.Draft202012Validator(_schema()).iter_errors(config))
    if error is not None:
        key = ".".join(str(part) for part in error.absolute_path)
        raise InputError(f"config '{key}': {error.message}" if key else f"config: {error.message}")
