"""What a validated config asks for: the sweep's points (language × test benchmark × method × size ×
seed) with the files each one produces, the benchmarks of each language by role (test: reported; dev:
what training chooses on), the collections the benchmarks search, and which pools, benchmarks and
collections each prepare rule makes.

workflow/rules/common.smk builds one :class:`Sweep` when the DAG is built and its input functions call
it; nothing here reads data or imports anything beyond the standard library and the source registries.
Every path comes from the config's :class:`swimscale.config.Layout` (`Sweep.layout`): a point's files
are the outputs of the rules `train` (which also searches its student on each test benchmark; with
``students_per_job`` one rule per :meth:`Sweep.student_groups` job instead) and `search_zero_shot` (the
runs), and `evaluate` and `evaluate_zero_shot` (the metrics, scored from the runs against the current
judgements) (workflow/rules/); the end-to-end tests run them all.
"""

from __future__ import annotations

import os

from swimscale.config._layout import Layout
from swimscale.data import POOL_SOURCES
from swimscale.data.benchmarks import SOURCES as BENCHMARK_SOURCES
from swimscale.data.benchmarks import collection_of
from swimscale.errors import InputError

# The files of a point, in the order `missing.tsv` reports the first one that is absent.
POINT_FILES = ("metrics_file", "train_log", "run_file", "qrels_file")


class Sweep:
    """The study of one validated config (the schema's defaults filled in)."""

    def __init__(self, config: dict):
        self.config = config
        self.layout = Layout.from_config(config)
        self._collections: dict[str, list[str]] | None = None
        # The config does not change while the DAG is built: what every job's input functions ask for
        # again (thousands of times in the full study) is computed once.
        self._evaluated_on: dict[str, list[str]] = {}
        self._collection_of: dict[str, str] = {}
        self._points: list[dict] | None = None

    # --- what each prepare rule makes ------------------------------------------------------------

    def pools_prepared_by(self, rule: str) -> list[str]:
        """The language codes whose pool source is prepared by `rule` (swimscale.data.POOL_SOURCES)."""
        return [code for code, pool in self.config["pools"].items() if POOL_SOURCES[pool["source"]].rule == rule]

    def benchmarks_prepared_by(self, rule: str) -> list[str]:
        """The benchmarks whose source is prepared by `rule` (swimscale.data.benchmarks.SOURCES)."""
        return [
            name for name, bench in self.config["benchmarks"].items() if BENCHMARK_SOURCES[bench["source"]].rule == rule
        ]

    def collections_prepared_by(self, rule: str) -> list[str]:
        """The collections `rule` writes: `prepare_bible` the Bible's, `prepare_collection` every other."""
        wanted = "prepare_bible" if rule == "prepare_bible" else "prepare_benchmark"
        return [
            collection for collection, members in self.collections().items()
            if BENCHMARK_SOURCES[self.config["benchmarks"][members[0]]["source"]].rule == wanted
        ]

    # --- benchmarks and their collections --------------------------------------------------------

    def role_of(self, name: str) -> str:
        return self.config["benchmarks"][name]["role"]

    def collection_of(self, name: str) -> str:
        """The collection benchmark `name` searches (swimscale.data.benchmarks.collection_of); asked for
        by every training job's inputs, so computed once per benchmark."""
        if name not in self._collection_of:
            self._collection_of[name] = collection_of(name, self.config["benchmarks"][name])
        return self._collection_of[name]

    def collections(self) -> dict[str, list[str]]:
        """{collection: its member benchmarks}, every benchmark of the config (whatever `languages` says,
        so that running fewer languages never changes a corpus)."""
        if self._collections is None:
            members: dict[str, list[str]] = {}
            for name in self.config["benchmarks"]:
                members.setdefault(self.collection_of(name), []).append(name)
            self._collections = members
        return self._collections

    def members_of(self, collection: str) -> dict[str, dict]:
        """{name: validated entry} of the benchmarks that search `collection`."""
        return {name: self.config["benchmarks"][name] for name in self.collections()[collection]}

    # --- the user's files each prepare job reads (declared as its inputs) --------------------------

    def pool_user_files(self, code: str) -> list[str]:
        """The local files a language's pool is read from (a release, a pre-staged snapshot)."""
        pool = self.config["pools"][code]
        source = POOL_SOURCES[pool["source"]]
        return _paths(source.user_files(code, pool, self.config["data_dir"]) if source.user_files else [])

    def benchmark_user_files(self, name: str) -> list[str]:
        """The local files a benchmark's queries and judgements are read from."""
        bench = self.config["benchmarks"][name]
        source = BENCHMARK_SOURCES[bench["source"]]
        return _paths(source.user_files(name, bench, self.config["data_dir"]) if source.user_files else [])

    def collection_user_files(self, collection: str) -> list[str]:
        """The local files a collection's documents are read from (and, with a `corpus_size`, the member
        benchmarks' judgements, which choose the documents kept)."""
        members = self.members_of(collection)
        name, bench = sorted(members.items())[0]
        source = BENCHMARK_SOURCES[bench["source"]]
        files = source.collection_files(bench, self.config["data_dir"]) if source.collection_files else []
        if bench["corpus_size"] is not None:
            files = [*files, *(f for member in sorted(members) for f in self.benchmark_user_files(member))]
        return _paths(files)

    # --- per language ----------------------------------------------------------------------------

    def evaluated_on(self, code: str) -> list[str]:
        """Every benchmark a language's students are evaluated on, test and dev: those in its language,
        and those whose `pools` list names it (one corpus encoding per collection and teacher)."""
        if code not in self._evaluated_on:
            self._evaluated_on[code] = [name for name, bench in self.config["benchmarks"].items()
                                        if code in (bench["pools"] or [bench["language"]])]
        return list(self._evaluated_on[code])

    def test_benchmarks_of(self, code: str) -> list[str]:
        """The benchmarks a language's results are reported on (role test): the rows of recall.tsv."""
        return [name for name in self.evaluated_on(code) if self.role_of(name) == "test"]

    def dev_benchmarks_of(self, code: str) -> list[str]:
        """The benchmarks training chooses a language's students on (role dev); never reported."""
        return [name for name in self.evaluated_on(code) if self.role_of(name) == "dev"]

    def benchmarks_of(self, code: str) -> list[str]:
        """The benchmarks a language is reported on: its test benchmarks."""
        return self.test_benchmarks_of(code)

    def pool_sizes(self, code: str) -> list[int]:
        """The sizes N of a language: its pool's own `sizes`, else the global `sizes`."""
        return sorted(self.config["pools"][code]["sizes"] or self.config["sizes"])

    def pool_seeds(self, code: str) -> list[int]:
        """The seeds of a language: its pool's own `seeds`, else the global `seeds`."""
        return list(self.config["pools"][code].get("seeds") or self.config["seeds"])

    def trained_sizes(self, code: str | None = None) -> list[int]:
        """Sizes N > 0 of a language (per-pool `sizes`), or of the global `sizes` without a code."""
        sizes = self.pool_sizes(code) if code is not None else sorted(self.config["sizes"])
        return [size for size in sizes if size > 0]

    # --- training jobs ---------------------------------------------------------------------------

    def student_groups(self) -> list[dict]:
        """The training jobs of ``students_per_job`` other than ``one``: one dict per job, ``rule`` (its
        rule's name), ``language``, ``method`` (None: every method), ``size`` (None: every N) and
        ``students``, the (method, seed, N) it trains, in order. ``seeds``: one job per (language, method,
        N > 0); ``sizes_and_seeds``: one per (language, method); ``language``: one per language, every
        method. ``one``: none (the wildcard rule ``train`` makes each student).

        The order is seed-major (seed, then N ascending, then method): a job's students of one seed are
        trained in a row, so a job that holds what a seed's students share (the teacher's states of its
        samples) holds one seed's at a time. Each student is trained as in a job of its own, so the order
        changes no result."""
        mode = self.config["students_per_job"]
        if mode == "one":
            return []
        groups = []
        for code in self.config["languages"]:
            if mode == "language":
                groups.append(self._group(code, None, None, self.config["methods"], self.trained_sizes(code)))
                continue
            for method in self.config["methods"]:
                if mode == "sizes_and_seeds":
                    groups.append(self._group(code, method, None, [method], self.trained_sizes(code)))
                else:  # seeds
                    groups.extend(self._group(code, method, size, [method], [size])
                                  for size in self.trained_sizes(code))
        return [group for group in groups if group["students"]]

    def _group(self, code: str, method: str | None, size: int | None, methods: list[str], sizes: list[int]) -> dict:
        """One training job: its rule's name (train_<language>[_<method>][_n<N>]) and its students, seed-major."""
        rule = "_".join(["train", code, *([method] if method else []), *([f"n{size}"] if size else [])])
        students = [(m, seed, n) for seed in self.pool_seeds(code) for n in sizes for m in methods]
        return dict(rule=rule, language=code, method=method, size=size, students=students)

    # --- the points of the sweep -----------------------------------------------------------------

    def points(self) -> list[dict]:
        """One dict per recall-table row (language, benchmark, method, size, seed) with the paths of its
        run, qrels, metrics and training log (None for N = 0), every point of the config."""
        if self._points is None:
            self._points = self._all_points()
        return list(self._points)  # no caller changes a point (missing_points builds new dicts)

    def _all_points(self) -> list[dict]:
        return [
            self.point(code, bench, method, size, seed)
            for code in self.config["languages"]
            for bench in self.benchmarks_of(code)
            for method in self.config["methods"]
            for size in self.pool_sizes(code)
            for seed in self.pool_seeds(code)
        ]

    def point(self, code: str, bench: str, method: str, size: int, seed: int) -> dict:
        """One reported point (`bench` a test benchmark), its files, and `outputs`: what the job that makes
        them outputs, which is what rules downstream ask for (a trained student's runs and metrics sit in
        two folders, its training job's and its evaluate job's, one file per test benchmark; the untrained
        student's are files)."""
        layout = self.layout
        if size == 0:
            # The untrained student is the same for every method and seed: run once.
            search, evaluate = layout.zero_shot_dirs(code)
            train_log = None
        else:
            search, evaluate = layout.student_dirs(code, method, seed, size)
            train_log = layout.train_log(code, method, seed, size)
        files = layout.evaluation_files(search, evaluate, bench)
        return dict(
            language=code,
            benchmark=bench,
            method=method,
            size=size,
            seed=seed,
            run_file=files["run"],
            qrels_file=layout.benchmark_files(bench)["qrels"],
            metrics_file=files["metrics"],
            train_log=train_log,
            outputs=[files["run"], files["metrics"]] if size == 0 else [search, evaluate, train_log],
        )

    @staticmethod
    def point_files(point: dict) -> list[str]:
        return [point[key] for key in POINT_FILES if point[key]]

    def finished(self, point: dict) -> bool:
        """Every file of the point exists (relative paths: from the working directory, as Snakemake's)."""
        return all(os.path.exists(path) for path in self.point_files(point))

    def table_points(self) -> list[dict]:
        """The points of the recall table: all of them; with `partial: true`, only those whose files all
        exist (the runs that finished, e.g. after a --keep-going run in which some jobs failed)."""
        points = self.points()
        if self.config["partial"]:
            points = [point for point in points if self.finished(point)]
            if not points:
                raise InputError("config 'partial': no run of the sweep has finished yet, so there is nothing to tabulate")
        return points

    def missing_points(self) -> list[dict]:
        """The points not in the tables (only with `partial: true`), each with the first file it lacks."""
        if not self.config["partial"]:
            return []
        return [
            {**point, "missing": next(path for path in self.point_files(point) if not os.path.exists(path))}
            for point in self.points()
            if not self.finished(point)
        ]


def _paths(files) -> list[str]:
    """Sorted unique path strings, as Snakemake's inputs want them."""
    return sorted({str(f) for f in files})
