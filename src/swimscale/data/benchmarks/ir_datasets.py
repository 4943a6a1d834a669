"""Any ir_datasets id with queries and qrels (config `source: ir_datasets`, key `id`), e.g.
`clirmatrix/en/bi139-base/yo/test1` (English documents, Yoruba queries — CLIRMatrix ids name the
document language first), read through ir_datasets' own `queries_iter`, `qrels_iter` and `docs_iter`.
Its files live under IR_DATASETS_HOME if set, else `<data_dir>/ir_datasets`.
"""

from __future__ import annotations

import os
from pathlib import Path

from swimscale.data.benchmarks._write import BenchmarkFiles, file_lock, write_source
from swimscale.errors import DataMissingError


def home(data_dir) -> Path:
    """IR_DATASETS_HOME if the user set it, else `<data_dir>/ir_datasets` (read by ir_datasets at import)."""
    return Path(os.environ.get("IR_DATASETS_HOME") or Path(data_dir) / "ir_datasets")


def _first_line(err: BaseException) -> str:
    return f"{type(err).__name__}: {(str(err).strip().splitlines() or [''])[0]}"


def missing_message(name: str, dataset_id: str, home: Path, error: str) -> str:
    return (
        f"benchmark '{name}': ir_datasets could not provide '{dataset_id}' ({error}).\n"
        f"With internet the job downloads it into {home}. Without internet, on a machine that has it run\n"
        f"  IR_DATASETS_HOME={home} ir_datasets export {dataset_id} queries > /dev/null\n"
        f"  IR_DATASETS_HOME={home} ir_datasets export {dataset_id} qrels > /dev/null\n"
        f"  IR_DATASETS_HOME={home} ir_datasets export {dataset_id} docs > /dev/null\n"
        f"and copy {home} to the same path here (or point IR_DATASETS_HOME at the copy)."
    )


def load(name: str, dataset_id: str, files_home: Path):
    """The ir_datasets dataset, its three parts fetched: loading (some datasets fetch an index of their
    files then) and the first item of each iterator trigger the downloads, under one lock, so that
    several benchmark jobs sharing a corpus (CLIRMatrix's English Wikipedia) download it once."""
    os.environ["IR_DATASETS_HOME"] = str(files_home)  # before the import: ir_datasets reads it then
    import ir_datasets

    with file_lock(files_home / ".swimscale.lock"):
        try:
            dataset = ir_datasets.load(dataset_id)
        except KeyError as err:
            raise ValueError(
                f"config 'benchmarks.{name}.id': ir_datasets cannot load '{dataset_id}' (KeyError: {err}); "
                "CLIRMatrix ids are clirmatrix/<document language>/<bi139-base|bi139-full|multi8>/<query language>/<split>"
            ) from None
        except Exception as err:  # offline: say what to fetch
            raise DataMissingError(missing_message(name, dataset_id, files_home, _first_line(err))) from None
        for part in ("queries", "qrels", "docs"):
            if not getattr(dataset, f"has_{part}")():
                raise ValueError(f"config 'benchmarks.{name}.id': '{dataset_id}' has no {part}")
        try:
            for part in ("queries", "qrels", "docs"):
                next(iter(getattr(dataset, f"{part}_iter")()), None)
        except Exception as err:  # offline or instructions-only sources: say what to fetch
            raise DataMissingError(missing_message(name, dataset_id, files_home, _first_line(err))) from None
    return dataset


def prepare_ir_datasets(name: str, bench: dict, files: BenchmarkFiles, data_dir) -> dict:
    """Writes benchmark `name` (`bench`: its validated config entry) from ir_datasets; returns the manifest."""
    dataset_id = bench["id"]
    files_home = home(data_dir)
    dataset = load(name, dataset_id, files_home)

    def queries():
        for n, q in enumerate(dataset.queries_iter(), 1):
            yield q.query_id, q.default_text() if hasattr(q, "default_text") else q.text, f"{dataset_id} queries: item {n}"

    def qrels():
        for n, r in enumerate(dataset.qrels_iter(), 1):
            yield r.query_id, r.doc_id, r.relevance, f"{dataset_id} qrels: item {n}"

    def docs():
        for n, d in enumerate(dataset.docs_iter(), 1):
            title = getattr(d, "title", "") or ""
            text = getattr(d, "text", None) or getattr(d, "body", None)
            if text is None:
                text = d.default_text()
            yield d.doc_id, title, text, f"{dataset_id} docs: item {n}"

    inputs = {"id": dataset_id, "ir_datasets_home": str(files_home)}
    return write_source(name, bench, files, (queries(), qrels(), docs), inputs, packages=("ir-datasets",))
