"""Where the workflow writes everything: the one spelling of every path under the results folder.

A :class:`Layout` maps a point of the study (language, benchmark, collection, method, seed, size, and
the teacher it was built with) to the files the workflow makes for it. Its methods take strings and
format them into the path as they are, so the same call serves two callers:

- concrete values, ``layout.sample("ny", 0, 32)`` -> ``results/subsample/ny/seed0/n32.jsonl``, for the
  input functions and the sweep's points (:class:`swimscale.config.Sweep`);
- Snakemake wildcards, ``layout.sample("{language}", "{seed}", "{size}")`` ->
  ``results/subsample/{language}/seed{seed}/n{size}.jsonl``, for the rules' ``output:`` lines (no
  ``{{...}}`` escaping: the wildcard is an argument, not part of an f-string).

Formatting a pattern's wildcards with the values gives the concrete path (the tests check it for every
method), so what a rule outputs and what an input function asks for cannot drift apart. The teacher is
fixed per layout (its short name ``teacher.name``: a corpus is encoded once per collection and teacher).

The tree (``<results>`` is ``results_dir``; ``<stage>/<job>`` below ``logs/`` and ``timings/`` is the
same for every rule, see :class:`JobFiles`)::

    <results>/
      prepare/pools/<language>.jsonl                           prepare_bible, prepare_pool
      prepare/benchmarks/<benchmark>/{queries.tsv,qrels.txt}   prepare_bible, prepare_benchmark
      prepare/collections/<collection>/corpus.jsonl            prepare_bible, prepare_collection
      prepare/manifests/{pool-<language>,benchmark-<benchmark>,collection-<collection>}.json
      validate/<language>/{pool.jsonl,report.json,screened.json}   validate
      subsample/<language>/seed<seed>/n<size>.jsonl            subsample
      query_states/<teacher>/<benchmark>.safetensors           query_states
      teacher_states/<teacher>/<language>.safetensors          teacher_states
      encode/<teacher>/<collection>/{corpus.npy,docids.txt}    encode_corpus
      index/<teacher>/<collection>/flat_ip.faiss               index
      train/<language>/<method>/seed<seed>/n<size>/{student.safetensors,train_log.json,checkpoint.pt}
      train/<language>/<method>/seed<seed>/n<size>/finished    a group job's finished student, until it ends
      search/<language>/<method>/seed<seed>/n<size>/<benchmark>{.trec,.searched.json}   train: runs folder
      evaluate/<language>/<method>/seed<seed>/n<size>/<benchmark>{.json,.per_query.tsv}   evaluate
      search/<language>/zero_shot/<benchmark>{.trec,.searched.json}   search_zero_shot (N = 0)
      evaluate/<language>/zero_shot/<benchmark>{.json,.per_query.tsv}   evaluate_zero_shot
      tables/recall.tsv                                        correlate (and the rest of tables/,
      tables/{correlation,recall_by_size,learning_curves,slopes,literature}.{tsv,md,tex}
      tables/{across_languages,moderators,method_contrasts}.tsv
      plots/{recall_vs_n,slope_forest,literature,across_languages}.{png,svg}   plots/ and summary.md)
      summary.md
      tables/missing.tsv                                       missing_runs
      tables/moderator_values.tsv                              moderator_values
      logs/<stage>/<job>.log                                   every rule's log
      timings/<stage>/<job>.tsv                                every rule's `benchmark:` file
      run.lock                                                 the running workflow (Snakefile's onstart)

Every derived file above has its sidecar ``<file>.sidecar.json`` beside it (its SHA-256, size and
count: :mod:`swimscale.formats`), written by the job that made it.

Standard library only: the process that builds the DAG imports it.
"""

from __future__ import annotations

# The tables, plots and summary {name: path under the results folder}: the correlate rule's outputs
# (swimscale.analysis.OUTPUTS is this less the other two), missing_runs' and moderator_values' tables.
TABLES = {
    "recall": "tables/recall.tsv",
    "correlation": "tables/correlation.tsv",
    "correlation_md": "tables/correlation.md",
    "correlation_tex": "tables/correlation.tex",
    "by_size": "tables/recall_by_size.tsv",
    "by_size_md": "tables/recall_by_size.md",
    "by_size_tex": "tables/recall_by_size.tex",
    "curves": "tables/learning_curves.tsv",
    "curves_md": "tables/learning_curves.md",
    "curves_tex": "tables/learning_curves.tex",
    "slopes": "tables/slopes.tsv",
    "slopes_md": "tables/slopes.md",
    "slopes_tex": "tables/slopes.tex",
    "plot": "plots/recall_vs_n.png",
    "plot_svg": "plots/recall_vs_n.svg",
    "forest": "plots/slope_forest.png",
    "forest_svg": "plots/slope_forest.svg",
    "literature": "tables/literature.tsv",
    "literature_md": "tables/literature.md",
    "literature_tex": "tables/literature.tex",
    "literature_plot": "plots/literature.png",
    "literature_plot_svg": "plots/literature.svg",
    "across": "tables/across_languages.tsv",
    "moderators": "tables/moderators.tsv",
    "contrasts": "tables/method_contrasts.tsv",
    "across_plot": "plots/across_languages.png",
    "across_plot_svg": "plots/across_languages.svg",
    "moderator_values": "tables/moderator_values.tsv",
    "summary": "summary.md",
    "missing": "tables/missing.tsv",
}
# The roles of Layout.evaluation_files that a search writes (train, search_zero_shot); evaluation writes the others.
SEARCH_ROLES = ("run", "searched")
# What `snakemake` with no target makes (rule all): the tables, the plot and the list of missing runs.
FINAL = ("recall", "correlation", "plot", "missing")


def _student(language, method, seed, size) -> str:
    """The part of a trained student's paths that names it (shared by train/, search/, evaluate/, logs/)."""
    return f"{language}/{method}/seed{seed}/n{size}"


class JobFiles:
    """One file per job under ``<results>/<kind>/`` (``logs/``, suffix ``.log``; ``timings/``, suffix
    ``.tsv``, Snakemake's `benchmark:` files): the same ``<stage>/<job>`` name in both. One method per rule,
    named after it, taking the rule's wildcards."""

    def __init__(self, results: str, kind: str, suffix: str, teacher: str):
        self.root = f"{results}/{kind}"
        self.suffix = suffix
        self.teacher = teacher

    def _file(self, job: str) -> str:
        return f"{self.root}/{job}{self.suffix}"

    def prepare_bible(self, language) -> str:
        return self._file(f"prepare/bible-{language}")

    def prepare_pool(self, language) -> str:
        return self._file(f"prepare/pool-{language}")

    def prepare_collection(self, collection) -> str:
        return self._file(f"prepare/collection-{collection}")

    def prepare_benchmark(self, benchmark) -> str:
        return self._file(f"prepare/benchmark-{benchmark}")

    def validate(self, language) -> str:
        return self._file(f"validate/{language}")

    def subsample(self, language, seed, size) -> str:
        return self._file(f"subsample/{language}/seed{seed}/n{size}")

    def query_states(self, benchmark) -> str:
        return self._file(f"query_states/{self.teacher}/{benchmark}")

    def teacher_states(self, language) -> str:
        return self._file(f"teacher_states/{self.teacher}/{language}")

    def encode_corpus(self, collection) -> str:
        return self._file(f"encode/{self.teacher}/{collection}")

    def index(self, collection) -> str:
        return self._file(f"index/{self.teacher}/{collection}")

    def train(self, language, method, seed, size) -> str:
        return self._file(f"train/{_student(language, method, seed, size)}")

    def train_students(self, language, method=None, size=None) -> str:
        """A training job of several students (``students_per_job``): every N and seed of a (language,
        method) (`size` None), or every seed of one N; with `method` None, every method of the language
        (``language``), its log beside the language's folders of methods."""
        folder = f"train/{language}/" if method is None else f"train/{language}/{method}/"
        return self._file(folder + ("students" if size is None else f"students_n{size}"))

    def search_zero_shot(self, language, benchmark) -> str:
        return self._file(f"search/{language}/zero_shot/{benchmark}")

    def evaluate(self, language, method, seed, size) -> str:
        return self._file(f"evaluate/{_student(language, method, seed, size)}")

    def evaluate_zero_shot(self, language, benchmark) -> str:
        return self._file(f"evaluate/{language}/zero_shot/{benchmark}")

    def correlate(self) -> str:
        return self._file("correlate/correlate")

    def missing_runs(self) -> str:
        return self._file("correlate/missing_runs")

    def moderator_values(self) -> str:
        return self._file("correlate/moderator_values")


class Layout:
    """The paths of one study: its results folder and teacher (see the module's tree). Every method takes
    concrete values or Snakemake wildcard strings ("{language}") and returns a path or {role: path}."""

    def __init__(self, results: str, teacher: str):
        self.results = results
        self.teacher = teacher
        self.logs = JobFiles(results, "logs", ".log", teacher)
        self.timings = JobFiles(results, "timings", ".tsv", teacher)

    @classmethod
    def from_config(cls, config: dict) -> Layout:
        """The layout of a validated config: `results_dir` and `teacher.name`."""
        return cls(config["results_dir"], config["teacher"]["name"])

    # --- prepare ---------------------------------------------------------------------------------

    def pool(self, language) -> str:
        """A language's pool as its source gave it."""
        return f"{self.results}/prepare/pools/{language}.jsonl"

    def pool_manifest(self, language) -> str:
        return f"{self.results}/prepare/manifests/pool-{language}.json"

    def benchmark_files(self, benchmark) -> dict[str, str]:
        """A prepared benchmark's files: {"queries": queries.tsv, "qrels": qrels.txt}."""
        base = f"{self.results}/prepare/benchmarks/{benchmark}"
        return {"queries": f"{base}/queries.tsv", "qrels": f"{base}/qrels.txt"}

    def benchmark_manifest(self, benchmark) -> str:
        return f"{self.results}/prepare/manifests/benchmark-{benchmark}.json"

    def collection_files(self, collection) -> dict[str, str]:
        """A prepared collection's files: {"corpus": corpus.jsonl}."""
        return {"corpus": f"{self.results}/prepare/collections/{collection}/corpus.jsonl"}

    def collection_manifest(self, collection) -> str:
        return f"{self.results}/prepare/manifests/collection-{collection}.json"

    # --- validate, subsample ---------------------------------------------------------------------

    def validated_pool(self, language) -> str:
        """A language's pool after the validate stage's checks and overlap screen: what training samples."""
        return f"{self.results}/validate/{language}/pool.jsonl"

    def validation_report(self, language) -> str:
        """The validate stage's report of a language (counts, benchmark checks, overlap counts)."""
        return f"{self.results}/validate/{language}/report.json"

    def screened(self, language) -> str:
        """What the overlap screen read of each benchmark (relevant documents, the qrels' and queries'
        SHA-256): evaluation checks the current judgements against it (swimscale.data.check_screened)."""
        return f"{self.results}/validate/{language}/screened.json"

    def sample(self, language, seed, size) -> str:
        """The training sample of N = `size` records drawn with `seed` from the validated pool."""
        return f"{self.results}/subsample/{language}/seed{seed}/n{size}.jsonl"

    # --- the teacher's files: query states, corpus encodings, indexes ----------------------------

    def query_states(self, benchmark) -> str:
        """The frozen prefix's output for a benchmark's queries (with trainable_layers/freeze_embeddings)."""
        return f"{self.results}/query_states/{self.teacher}/{benchmark}.safetensors"

    def teacher_states(self, language) -> str:
        """The teacher's token states of a language's validated pool, in pool order, read by every
        training job of the language that uses them (``train.teacher_tokens``: swimscale.model._teacher_states)."""
        return f"{self.results}/teacher_states/{self.teacher}/{language}.safetensors"

    def encoding(self, collection) -> dict[str, str]:
        """The teacher's embeddings and docids of a collection: {"embeddings": .npy, "docids": .txt}."""
        base = f"{self.results}/encode/{self.teacher}/{collection}"
        return {"embeddings": f"{base}/corpus.npy", "docids": f"{base}/docids.txt"}

    def index(self, collection) -> str:
        """The exact inner-product index of a collection's encoding."""
        return f"{self.results}/index/{self.teacher}/{collection}/flat_ip.faiss"

    # --- students: training, runs and metrics ----------------------------------------------------

    def student(self, language, method, seed, size) -> str:
        """A trained student's weights (temporary unless keep_students)."""
        return f"{self.results}/train/{_student(language, method, seed, size)}/student.safetensors"

    def train_log(self, language, method, seed, size) -> str:
        return f"{self.results}/train/{_student(language, method, seed, size)}/train_log.json"

    def checkpoint(self, language, method, seed, size) -> str:
        """Where an interrupted training job resumes from (deleted when the job finishes)."""
        return f"{self.results}/train/{_student(language, method, seed, size)}/checkpoint.pt"

    def finished(self, language, method, seed, size) -> str:
        """A copy of a finished student's outputs, kept beside its checkpoint while its training job (of
        several students, ``students_per_job``) trains the others: Snakemake deletes a failed job's
        outputs, and a re-run restores the students finished from here instead of training them again
        (deleted when the job finishes; :class:`swimscale.jobs.FinishedStudent`)."""
        return f"{self.results}/train/{_student(language, method, seed, size)}/finished"

    def runs_dir(self, language, method, seed, size) -> str:
        """A trained student's TREC runs and their search records, one per test benchmark (:meth:`evaluation_files`)."""
        return f"{self.results}/search/{_student(language, method, seed, size)}"

    def metrics_dir(self, language, method, seed, size) -> str:
        """A trained student's metrics, mean and per query, per test benchmark (:meth:`evaluation_files`)."""
        return f"{self.results}/evaluate/{_student(language, method, seed, size)}"

    def student_dirs(self, language, method, seed, size) -> tuple[str, str]:
        """The folders of one trained student's runs and metrics: its training and evaluation jobs' outputs."""
        return self.runs_dir(language, method, seed, size), self.metrics_dir(language, method, seed, size)

    def zero_shot_dirs(self, language) -> tuple[str, str]:
        """The folders of the untrained student's runs and metrics (one file per test benchmark)."""
        return f"{self.results}/search/{language}/zero_shot", f"{self.results}/evaluate/{language}/zero_shot"

    @staticmethod
    def evaluation_files(search: str, evaluate: str, benchmark) -> dict[str, str]:
        """A student's files for one test benchmark in its two folders (:meth:`student_dirs`,
        :meth:`zero_shot_dirs`): what its search writes (:data:`SEARCH_ROLES`: the TREC run, and the record
        of the search: the queries' SHA-256, k, the corpus size) and its evaluation writes from them (mean
        and per-query metrics)."""
        return {"run": f"{search}/{benchmark}.trec", "searched": f"{search}/{benchmark}.searched.json",
                "metrics": f"{evaluate}/{benchmark}.json", "per_query": f"{evaluate}/{benchmark}.per_query.tsv"}

    def zero_shot_files(self, language, benchmark) -> dict[str, str]:
        """The untrained student's run, metrics and per-query metrics on one test benchmark."""
        return self.evaluation_files(*self.zero_shot_dirs(language), benchmark)

    # --- tables and plots ------------------------------------------------------------------------

    def table(self, name: str) -> str:
        """One output of the analysis by its name (:data:`TABLES`; the correlate rule's output names)."""
        return f"{self.results}/{TABLES[name]}"

    def lock(self) -> str:
        """The lock of the run using this results folder (one at a time: :func:`swimscale.formats.take_lock`)."""
        return f"{self.results}/run.lock"

    def final_outputs(self) -> list[str]:
        """What the workflow makes by default (rule all)."""
        return [self.table(name) for name in FINAL]
