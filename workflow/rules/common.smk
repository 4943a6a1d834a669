# Wildcard constraints and input functions shared by the rule files. The logic lives in the tested
# package (standard library only on this side, imported from this checkout: the process that builds
# the DAG has neither torch nor, with --use-conda, the installed package): swimscale.jobs (the jobs'
# environment), swimscale.config (checks, the sweep, the layout of results/), swimscale.data (sources).
# Every path is LAYOUT's (swimscale.config.Layout): the rules pass it wildcard strings ("{language}")
# and the input functions concrete values.
import math
import re
import sys
from pathlib import Path

from snakemake.settings.types import DeploymentMethod
from snakemake.utils import validate

sys.path.insert(0, str(Path(workflow.basedir) / "src"))
from swimscale.config import (
    SEARCH_ROLES,
    Sweep,
    check_config,
    check_schema,
    micro_batch,
    model_files,
)
from swimscale.errors import InputError
from swimscale.formats import rebuild_command
from swimscale.jobs import set_job_environment
from swimscale.plan import TOKEN_METHODS, pool_pairs, state_bytes

# The schema checks every key (check_schema names the first bad one in a line), then Snakemake's
# validate fills in every default (nested pool and benchmark entries too): the one home of defaults,
# so nothing below or in the package restates one.
check_schema(config)
validate(config, schema="../schemas/config.schema.yaml")

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

DATA_DIR = config["data_dir"]
SWEEP = Sweep(config)
LAYOUT = SWEEP.layout


wildcard_constraints:
    language="[a-z]{2,3}",
    benchmark="[A-Za-z0-9][A-Za-z0-9_.-]*",
    collection="[A-Za-z0-9][A-Za-z0-9_.-]*",
    method="[a-z_]+",
    seed="[0-9]+",
    size="[1-9][0-9]*",


def one_of(names):
    """A wildcard regex matching exactly these names (and nothing when there are none)."""
    names = sorted(names)
    return "|".join(re.escape(n) for n in names) if names else "(?!)"


# The sweep (swimscale.config.Sweep), under the names that the other .smk files call.
# The languages, benchmarks and collections that a given prepare step makes.
pools_prepared_by = SWEEP.pools_prepared_by
benchmarks_prepared_by = SWEEP.benchmarks_prepared_by
collections_prepared_by = SWEEP.collections_prepared_by
# A language's benchmarks by role: test (reported: the rows of recall.tsv; `benchmarks_of` is the same),
# dev (what training chooses its students on; never reported), and both (what the pool is screened against).
benchmarks_of = SWEEP.benchmarks_of
test_benchmarks_of = SWEEP.test_benchmarks_of
dev_benchmarks_of = SWEEP.dev_benchmarks_of
evaluated_on = SWEEP.evaluated_on
# The collection a benchmark searches, and a collection's member benchmarks {name: entry}.
collection_of = SWEEP.collection_of
members_of = SWEEP.members_of
# The user's files a prepare job reads (a release, a snapshot, TREC files), declared as its inputs so
# that an edit re-runs exactly what depends on it.
pool_user_files = SWEEP.pool_user_files
benchmark_user_files = SWEEP.benchmark_user_files
collection_user_files = SWEEP.collection_user_files
# A language's sizes N (0 included), its sizes N > 0.
pool_sizes = SWEEP.pool_sizes
trained_sizes = SWEEP.trained_sizes
# Every point (language, test benchmark, method, size, seed and its files); the points of the tables
# (with `partial: true`, those that finished); the others, each with the first file it lacks.
all_sweep_points = SWEEP.points
sweep_points = SWEEP.table_points
missing_points = SWEEP.missing_points


# The files of a local teacher model directory (none for a Hub id or `bundled:`): every rule that loads
# the model declares them, so new weights re-run what the model computed. A list, not an input function:
# the full study's DAG has thousands of jobs, and each input function costs each of them time.
TEACHER_FILES = model_files(config["teacher"]["model"])


def benchmark_inputs(name):
    """Everything a benchmark's users read: its queries and qrels, and its collection's corpus."""
    return {
        **LAYOUT.benchmark_files(name),
        **LAYOUT.collection_files(collection_of(name)),
    }


def bible_held_out(name):
    """The outputs of one held-out Bible split: benchmark files, collection corpus, two manifests."""
    return {
        **LAYOUT.benchmark_files(name),
        "manifest": LAYOUT.benchmark_manifest(name),
        **LAYOUT.collection_files(name),
        "collection_manifest": LAYOUT.collection_manifest(name),
    }


def validate_benchmarks(language):
    """{benchmark: its files (queries, qrels, corpus), manifest and role}, test and dev."""
    return {
        name: {
            **benchmark_inputs(name),
            "manifest": LAYOUT.benchmark_manifest(name),
            "role": config["benchmarks"][name]["role"],
        }
        for name in evaluated_on(language)
    }


def screen_inputs(language):
    """The files the validate rule reads of the benchmarks a language is evaluated on. A test benchmark's
    prepared files (queries, qrels, manifest) are read through ancient(): a qrels edit prepares the
    benchmark again, and must rescore, not re-screen the pool and retrain. The screen records what it
    read (Layout.screened) and evaluation stops, with the command that re-screens, on a document judged
    relevant that the screen never saw (swimscale.data.check_screened). Corpora and dev benchmarks are
    read as they are: their edit re-screens and retrains."""
    paths = set()
    for files in validate_benchmarks(language).values():
        for role, path in files.items():
            if role != "role":
                test = files["role"] == "test" and role != "corpus"
                paths.add(ancient(path) if test else path)
    return sorted(paths)


def table_reports():
    """{language: its validate report} of the languages with runs in the tables: the correlate rule
    reads their overlap counts and data warnings into recall.tsv and summary.md. With `partial:
    true`, only the reports that exist (a language whose pool failed has zero-shot runs but no
    report, and the summary says so)."""
    reports = {
        point["language"]: LAYOUT.validation_report(point["language"])
        for point in sweep_points()
    }
    if config["partial"]:
        return {lang: path for lang, path in reports.items() if Path(path).exists()}
    return reports


def table_collections():
    """{benchmark: the manifest of the collection it searches}, for each test and dev benchmark of
    the languages with runs in the tables (the correlate rule reports what was dropped from
    them)."""
    manifests = {
        name: LAYOUT.collection_manifest(collection_of(name))
        for language in table_reports()
        for name in evaluated_on(language)
    }
    if config["partial"]:
        return {name: path for name, path in manifests.items() if Path(path).exists()}
    return manifests


# --- training and search inputs (train.smk, search.smk) -----------------------------------------------
# With train.trainable_layers or train.freeze_embeddings the students' frozen prefix output for the
# benchmarks' queries is computed once per benchmark (rule query_states) and read by every student.
CACHED_STATES = (
    config["train"]["trainable_layers"] is not None
    or config["train"]["freeze_embeddings"]
)


def collection_encoding(benchmark):
    """The teacher's embeddings and docids of the collection a benchmark searches (encode stage)."""
    return LAYOUT.encoding(collection_of(benchmark))


def benchmark_queries(benchmark):
    """What a student reads of a benchmark: its queries and judgements, and their prefix states."""
    files = LAYOUT.benchmark_files(benchmark)
    if CACHED_STATES:
        files["states"] = LAYOUT.query_states(benchmark)
    return files


def dev_files(language):
    """The language's dev benchmark as training reads it (none: a fixed budget without dev curve)."""
    dev = dev_benchmarks_of(language)
    if not dev:
        return {}
    (name,) = dev  # the config check allows one
    return {
        f"dev_{role}": path
        for role, path in {
            **benchmark_queries(name),
            **collection_encoding(name),
        }.items()
    }


def student_file(path):
    """A student is deleted once its job has searched with it, unless keep_students."""
    return path if config["keep_students"] else temp(path)


def student_outputs(language, method, seed, size):
    """{output name: path} of the training job of one student (wildcards or values): the student, its
    training log, and the folder of its runs (one run and search record per test benchmark).
    """
    return {
        "student": student_file(LAYOUT.student(language, method, seed, size)),
        "train_log": LAYOUT.train_log(language, method, seed, size),
        "runs": directory(LAYOUT.runs_dir(language, method, seed, size)),
    }


def search_files(benchmark):
    """What searching a benchmark reads: its queries (and their prefix states), and its collection's
    index and docids. Not its judgements: the evaluate rules score the runs (evaluate.smk).
    """
    collection = collection_of(benchmark)
    files = {"queries": LAYOUT.benchmark_files(benchmark)["queries"]}
    if CACHED_STATES:
        files["states"] = LAYOUT.query_states(benchmark)
    return {
        **files,
        "index": LAYOUT.index(collection),
        "docids": LAYOUT.encoding(collection)["docids"],
    }


# A test benchmark's queries file (and their prefix states) is written again, byte for byte the same,
# whenever the benchmark is prepared again, as a qrels edit does: its searches (train, search_zero_shot)
# read them through ancient() so that the edit rescores (evaluate.smk) without searching or training
# again. Evaluation checks that the queries are those the run answers (swimscale.retrieval.evaluate_search),
# so an edit of the queries themselves stops there with the command that searches again. Dev benchmarks
# are read as they are: their edit retrains.
REPREPARED = ("queries", "states")


def search_inputs(wildcards):
    """What the zero-shot search of a test benchmark reads (REPREPARED files through ancient())."""
    return {
        role: ancient(path) if role in REPREPARED else path
        for role, path in search_files(wildcards.benchmark).items()
    }


def train_files(language):
    """What training a student of `language` reads besides its sample: the language's dev benchmark
    (dev_*) and, as `tests`, every file its searches read (those of each test benchmark of its language;
    REPREPARED ones through ancient()).
    """
    tests = {
        ancient(path) if role in REPREPARED else path
        for name in test_benchmarks_of(language)
        for role, path in search_files(name).items()
    }
    return {**dev_files(language), "tests": sorted(tests)}


def train_inputs(wildcards):
    return train_files(wildcards.language)


def tests_of(language, method, seed, size):
    """{test benchmark: what its search reads and the run and search record it writes} of one trained
    student: inside its runs folder, at the paths of the sweep's points (swimscale.config.Sweep).
    """
    folders = LAYOUT.student_dirs(language, method, seed, size)
    return {
        name: {
            **search_files(name),
            **search_roles(LAYOUT.evaluation_files(*folders, name)),
        }
        for name in test_benchmarks_of(language)
    }


def student_tests(wildcards):
    return tests_of(
        wildcards.language, wildcards.method, wildcards.seed, wildcards.size
    )


# --- training jobs of several students (students_per_job: seeds, sizes_and_seeds, language; train.smk) --
# A rule per job of swimscale.config.Sweep.student_groups, whose outputs are every file of each of its
# students (student_outputs), so that asking for any one of them runs the whole job. A student is a
# (method, seed, N): a `language` job trains every method of its language.


def group_students(group):
    """The students of a group job as its script reads them (params `students`): per (method, seed, N),
    its sample, checkpoint, copy of its finished outputs, outputs and searches."""
    language = group["language"]
    return [
        {
            "method": method,
            "seed": seed,
            "size": size,
            "sample": LAYOUT.sample(language, seed, size),
            "checkpoint": LAYOUT.checkpoint(language, method, seed, size),
            "finished": LAYOUT.finished(language, method, seed, size),
            "outputs": {
                name: str(path)
                for name, path in student_outputs(language, method, seed, size).items()
            },
            "tests": tests_of(language, method, seed, size),
        }
        for method, seed, size in group["students"]
    ]


def group_outputs(group):
    """{<name>_<method>_seed<s>_n<N>: path} of every output of every student of a group job."""
    return {
        f"{name}_{method}_seed{seed}_n{size}": path
        for method, seed, size in group["students"]
        for name, path in student_outputs(group["language"], method, seed, size).items()
    }


def group_samples(group):
    """The samples a group job reads: one per (seed, N) of its students, in their order."""
    pairs = dict.fromkeys((seed, size) for _, seed, size in group["students"])
    return [LAYOUT.sample(group["language"], seed, size) for seed, size in pairs]


# A group job's wall-clock limit on SLURM (resource `runtime`, minutes per attempt): the SLURM
# profile gives the one-student rule `train` 240 per attempt; a group job asks for that per student,
# up to a day per attempt. A job stopped at its limit loses nothing: its retry (retries:) restores the
# students it finished and resumes the one it was training from its checkpoint.
TRAIN_MINUTES = 240
GROUP_MAX_MINUTES = 24 * 60
# Host memory per attempt of a training job (MB), of one student or of a group (one at a time); a group
# job asks for its teacher's states on top, once (group_state_mb: a retry does not hold more of them).
TRAIN_MEM_MB = 9000


def group_state_mb(group):
    """MB (10^6 bytes, rounded up) of the teacher's states a group job holds in host memory at most:
    one seed's at a time (seed-major), those of its largest sample, with the tokens when one of its
    students reads them, as swimscale.plan estimates them (state_bytes: bf16 token states, two
    float32 pooled vectors a pair; N capped as the plan caps it: pool_pairs), when they fit
    train.teacher_host_gib (teacher_tokens job); beyond it a run holds at most its own states within
    train.teacher_cache_gib (precompute), or none (on the fly)."""
    code, train = group["language"], config["train"]
    cap = pool_pairs(config, code) if config["pools"][code]["cap_sizes"] else None
    largest = max(min(size, cap or size) for _, _, size in group["students"])
    tokens = any(method in TOKEN_METHODS for method, _, _ in group["students"])
    held = state_bytes(largest, tokens)
    if held > train["teacher_host_gib"] * 2**30:
        held = min(held, train["teacher_cache_gib"] * 2**30)
    return math.ceil(held / 1e6)


def group_resources(group):
    """The `train` rule's resources for a group job (bound to this group, not to the loop's variable):
    one GPU, the memory of one student (they train one after another) and of the teacher's states the
    job holds (group_state_mb), the runtime of all of them, and `attempt`: each student's micro-batch
    is swimscale.config.micro_batch of its own method at this attempt (a `language` job's methods
    differ, and the contrastive one never splits its batch), computed by the script."""
    students, states_mb = len(group["students"]), group_state_mb(group)
    return dict(
        gpu=1,
        mem_mb=lambda wc, attempt: TRAIN_MEM_MB * attempt + states_mb,
        disk_mb=8000,
        runtime=lambda wc, attempt: min(TRAIN_MINUTES * students, GROUP_MAX_MINUTES)
        * attempt,
        attempt=lambda wc, attempt: attempt,
    )


def search_roles(files, search=True):
    """The files of Layout.evaluation_files that a search writes (SEARCH_ROLES), or (search=False) the
    others, which evaluation writes."""
    return {
        role: path for role, path in files.items() if (role in SEARCH_ROLES) == search
    }


# --- evaluation inputs (evaluate.smk) -------------------------------------------------------------------


def judged_files(benchmark):
    """What scoring a run of a test benchmark reads of it: its queries, qrels and manifest."""
    return {
        **LAYOUT.benchmark_files(benchmark),
        "manifest": LAYOUT.benchmark_manifest(benchmark),
    }


def evaluation_tests(language, folders, benchmarks=None):
    """{test benchmark: {queries, qrels, manifest, run, searched, metrics, per_query}} of a student whose
    runs and metrics folders are `folders` (Layout.student_dirs, Layout.zero_shot_dirs): each test
    benchmark of `language`, or those named."""
    return {
        name: {
            **judged_files(name),
            **LAYOUT.evaluation_files(*folders, name),
        }
        for name in benchmarks or test_benchmarks_of(language)
    }


def evaluate_inputs(wildcards):
    """What scoring a trained student reads: its runs folder, the overlap screen's record of its
    language, and the queries, judgements and manifest of each of its test benchmarks.
    """
    judged = {
        path
        for name in test_benchmarks_of(wildcards.language)
        for path in judged_files(name).values()
    }
    return {
        "runs": LAYOUT.runs_dir(
            wildcards.language, wildcards.method, wildcards.seed, wildcards.size
        ),
        "screened": LAYOUT.screened(wildcards.language),
        "judged": sorted(judged),
    }


def evaluate_tests(wildcards):
    """The evaluate job's params `tests`: a trained student's files on each test benchmark."""
    folders = LAYOUT.student_dirs(
        wildcards.language, wildcards.method, wildcards.seed, wildcards.size
    )
    return evaluation_tests(wildcards.language, folders)


# The model-side settings, built once from the validated config: one typed frozen object per concern
# (swimscale.config.Settings: teacher, train, search). Each rule hands a job the serialised object
# (`to_params()`) of each concern it reads; its script rebuilds it and passes it to the library.
from swimscale.config import Settings

SETTINGS = Settings.from_config(config)


include: "validate.smk"
include: "targets.smk"
