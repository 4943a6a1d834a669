"""The configuration: checks that the JSON schema (workflow/schemas/config.schema.yaml) cannot express.

:func:`check_config` runs when Snakemake builds the DAG, after the schema has validated the config
and filled in its defaults. It imports neither torch nor the data sources. :func:`defaults` gives
the schema's defaults of a section to callers outside Snakemake: the schema is their one home.
"""

from swimscale.config._schema import SCHEMA_PATH, defaults, load_schema
from swimscale.config._checks import check_code, check_config, check_input_path, check_model, check_name
from swimscale.errors import InputError

__all__ = [
    "SCHEMA_PATH",
    "InputError",
    "check_code",
    "check_config",
    "check_input_path",
    "check_model",
    "check_name",
    "defaults",
    "load_schema",
]
