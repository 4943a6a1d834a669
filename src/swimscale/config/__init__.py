"""The configuration: the JSON schema's defaults, the checks the schema cannot express, and what a
config asks for (the sweep).

The schema (workflow/schemas/config.schema.yaml) is the one home of every default: Snakemake
validates the config against it and fills them in; callers outside Snakemake use :func:`validated`
(a whole config) or :func:`defaults` (one section). :func:`check_config` runs when Snakemake builds the
DAG, after the schema; :class:`Sweep` enumerates the points of the study for the rules' input
functions. :class:`Settings` (:class:`TeacherSettings`, :class:`TrainSettings`, :class:`SearchSettings`)
are the model-side sections as typed frozen objects, built once from the validated config and handed to
jobs in their serialised form (``to_params``/``from_params``). Standard library only (PyYAML/jsonschema
where the schema is read): it imports neither torch nor the data sources.
"""

from swimscale.config._checks import (
    check_code,
    check_config,
    check_input_path,
    check_model,
    check_name,
    model_files,
)
from swimscale.config._layout import SEARCH_ROLES, TABLES, Layout
from swimscale.config._schema import SCHEMA_PATH, check_schema, defaults, load_schema, validated
from swimscale.config._settings import SearchSettings, Settings, TeacherSettings, TrainSettings
from swimscale.config._sweep import Sweep
from swimscale.config._train import IN_BATCH_NEGATIVES, TEACHER_TOKENS, micro_batch
from swimscale.errors import InputError

__all__ = [
    "SCHEMA_PATH",
    "TABLES",
    "IN_BATCH_NEGATIVES",
    "TEACHER_TOKENS",
    "InputError",
    "Layout",
    "SEARCH_ROLES",
    "SearchSettings",
    "Settings",
    "Sweep",
    "TeacherSettings",
    "TrainSettings",
    "check_code",
    "check_config",
    "check_input_path",
    "check_model",
    "check_schema",
    "check_name",
    "defaults",
    "load_schema",
    "micro_batch",
    "model_files",
    "validated",
]
