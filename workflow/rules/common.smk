# Paths, wildcard constraints and input functions shared by the rule files. The logic lives in the
# tested package (standard library only on this side, imported from this checkout: the process that
# builds the DAG has neither torch nor, with --use-conda, the installed package):
# swimscale.jobs (the jobs' environment), swimscale.config (checks, the sweep), swimscale.data (sources).
import re
import sys
from pathlib import Path

from snakemake.settings.types import DeploymentMethod
from snakemake.utils import validate

# The schema checks every key and fills in every default (nested pool and benchmark entries too): the
# one home of defaults, so nothing below or in the package restates one.
validate(config, schema="../schemas/config.schema.yaml")

sys.path.insert(0, str(Path(workflow.basedir) / "src"))
from swimscale.config import Sweep, check_config
from swimscale.errors import InputError
from swimscale.jobs import set_job_environment

# --- Conda environments (envs/spec.yaml; docs/cluster.md) -------------------------------------
# With --use-conda, jobs import swimscale from this checkout through PYTHONPATH, which Snakemake
# deletes from conda jobs unless --conda-not-block-search-path-envvars is given
# (snakemake/shell.py, shell.__new__); both profiles set it. What Snakemake's script preamble
# appends to sys.path from this process is taken off again by swimscale.jobs.isolate_job_imports.
USE_CONDA = DeploymentMethod.CONDA in workflow.deployment_settings.deployment_method
if USE_CONDA and not workflow.deployment_settings.conda_not_block_search_path_envvars:
    raise InputError(
        "--use-conda needs --conda-not-block-search-path-envvars (profiles/*/config.yaml set "
        "conda-not-block-search-path-envvars: true): without it Snakemake deletes PYTHONPATH, through "
        "which conda jobs import swimscale from this checkout"
    )
# The torch rules' env: the CUDA build that config key torch_cuda selects.
TORCH_ENV = {13: "../../envs/torch.yaml", 12: "../../envs/torch-cu12.yaml"}[
    config["torch_cuda"]
]
# ----------------------------------------------------------------------------------------------

# The one place that sets what every job inherits: this checkout's src/ first on PYTHONPATH (alone
# with --use-conda), and OMP_WAIT_POLICY=PASSIVE (set before any job starts torch; see swimscale.jobs).
set_job_environment(Path(workflow.basedir) / "src", conda=USE_CONDA)

# Bad input stops here, before any job: names used in paths, the model, input files, what each pool
# and benchmark source requires, keys naming other entries (swimscale.config.check_config).
check_config(config)

RESULTS = config["results_dir"]
TEACHER = config["teacher"]["name"]
DATA_DIR = config["data_dir"]
SWEEP = Sweep(config)


wildcard_constraints:
    language="[a-z]{2,3}",
    benchmark="[A-Za-z0-9][A-Za-z0-9_.-]*",
    method="[a-z_]+",
    seed="[0-9]+",
    size="[1-9][0-9]*",


def one_of(names):
    """A wildcard regex matching exactly these names (and nothing when there are none)."""
    names = sorted(names)
    return "|".join(re.escape(n) for n in names) if names else "(?!)"


# The sweep (swimscale.config.Sweep), under the names that the other .smk files call.
# The languages and the benchmarks that a given prepare step makes.
pools_prepared_by = SWEEP.pools_prepared_by
benchmarks_prepared_by = SWEEP.benchmarks_prepared_by
# A language's benchmarks, its sizes N (0 included), its sizes N > 0.
benchmarks_of = SWEEP.benchmarks_of
pool_sizes = SWEEP.pool_sizes
trained_sizes = SWEEP.trained_sizes
# Every point (language, benchmark, method, size, seed and its files); the points of the tables (with
# `partial: true`, those that finished); the others, each with the first file it lacks.
all_sweep_points = SWEEP.points
sweep_points = SWEEP.table_points
missing_points = SWEEP.missing_points


def subsample_files(wildcards):
    """Every sample of a language's pool that some training run uses, and the language's validation
    report: no training (teacher_tokens, then train) starts before its input has passed the checks.
    """
    return expand(
        f"{RESULTS}/subsample/{wildcards.language}/seed{{seed}}/n{{size}}.jsonl",
        seed=config["seeds"],
        size=trained_sizes(wildcards.language),
    ) + [f"{RESULTS}/validate/{wildcards.language}.json"]


def benchmark_files(name):
    """The prepared files of a benchmark, by role."""
    return {
        role: f"{RESULTS}/prepare/benchmarks/{name}/{file}"
        for role, file in (
            ("queries", "queries.tsv"),
            ("corpus", "corpus.jsonl"),
            ("qrels", "qrels.txt"),
        )
    }


def final_outputs():
    return [
        f"{RESULTS}/tables/recall.tsv",
        f"{RESULTS}/tables/correlation.tsv",
        f"{RESULTS}/plots/recall_vs_n.png",
        f"{RESULTS}/tables/missing.tsv",
    ]


include: "validate.smk"
include: "targets.smk"
