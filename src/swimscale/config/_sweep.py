"""What a validated config asks for: the sweep's points (language × benchmark × method × size × seed)
with the files each one produces, and which pools and benchmarks each prepare rule makes.

workflow/rules/common.smk builds one :class:`Sweep` when the DAG is built and its input functions call
it; nothing here reads data or imports anything beyond the standard library and the source registries.
The result paths below are the outputs of the rules `search_*`, `evaluate` and `train`
(workflow/rules/); the end-to-end tests run both.
"""

from __future__ import annotations

import os

from swimscale.data import POOL_SOURCES
from swimscale.data.benchmarks import SOURCES as BENCHMARK_SOURCES
from swimscale.errors import InputError

# The files of a point, in the order `missing.tsv` reports the first one that is absent.
POINT_FILES = ("metrics_file", "train_log", "run_file", "qrels_file")


class Sweep:
    """The study of one validated config (the schema's defaults filled in)."""

    def __init__(self, config: dict):
        self.config = config
        self.results = config["results_dir"]

    # --- what each prepare rule makes ------------------------------------------------------------

    def pools_prepared_by(self, rule: str) -> list[str]:
        """The language codes whose pool source is prepared by `rule` (swimscale.data.POOL_SOURCES)."""
        return [code for code, pool in self.config["pools"].items() if POOL_SOURCES[pool["source"]].rule == rule]

    def benchmarks_prepared_by(self, rule: str) -> list[str]:
        """The benchmarks whose source is prepared by `rule` (swimscale.data.benchmarks.SOURCES)."""
        return [
            name for name, bench in self.config["benchmarks"].items() if BENCHMARK_SOURCES[bench["source"]].rule == rule
        ]

    # --- per language ----------------------------------------------------------------------------

    def benchmarks_of(self, code: str) -> list[str]:
        """The benchmarks a language's students are evaluated on: those in its language, and those whose
        `pools` list names it (one corpus encoding per benchmark and teacher, however many use it)."""
        return [name for name, bench in self.config["benchmarks"].items() if code in (bench["pools"] or [bench["language"]])]

    def pool_sizes(self, code: str) -> list[int]:
        """The sizes N of a language: its pool's own `sizes`, else the global `sizes`."""
        return sorted(self.config["pools"][code]["sizes"] or self.config["sizes"])

    def trained_sizes(self, code: str | None = None) -> list[int]:
        """Sizes N > 0 of a language (per-pool `sizes`), or of the global `sizes` without a code."""
        sizes = self.pool_sizes(code) if code is not None else sorted(self.config["sizes"])
        return [size for size in sizes if size > 0]

    # --- the points of the sweep -----------------------------------------------------------------

    def points(self) -> list[dict]:
        """One dict per recall-table row (language, benchmark, method, size, seed) with the paths of its
        run, qrels, metrics and training log (None for N = 0), every point of the config."""
        return [
            self.point(code, bench, method, size, seed)
            for code in self.config["languages"]
            for bench in self.benchmarks_of(code)
            for method in self.config["methods"]
            for size in self.pool_sizes(code)
            for seed in self.config["seeds"]
        ]

    def point(self, code: str, bench: str, method: str, size: int, seed: int) -> dict:
        results = self.results
        if size == 0:
            # The untrained student is the same for every method and seed: run once.
            run = f"{results}/search/{bench}/{code}/zero_shot.trec"
            train_log = None
        else:
            run = f"{results}/search/{bench}/{code}/{method}/seed{seed}/n{size}.trec"
            train_log = f"{results}/train/{code}/{method}/seed{seed}/n{size}/train_log.json"
        return dict(
            language=code,
            benchmark=bench,
            method=method,
            size=size,
            seed=seed,
            run_file=run,
            qrels_file=f"{results}/prepare/benchmarks/{bench}/qrels.txt",
            metrics_file=run.replace(f"{results}/search/", f"{results}/evaluate/", 1).replace(".trec", ".json"),
            train_log=train_log,
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
