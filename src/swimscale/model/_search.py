"""A student's search of one test benchmark: its queries encoded as in training (``train.max_length``;
the cached prefix states when the student has a frozen prefix), exact search of the benchmark's
collection index, the TREC run written atomically and checked whole, and the search's record (the
queries' SHA-256, ``k``, the corpus size: :func:`swimscale.retrieval.write_search_record`).

The ``train`` rule calls :func:`search_benchmark` for each test benchmark of its language with the
student it has just trained (the student as stored: :func:`swimscale.model.as_stored`), so a trained
student costs one job; ``search_zero_shot`` calls it with the untrained student. Both pass the study's
:class:`swimscale.config.Settings`: the teacher's (model, pooling, normalisation, encoding batch), the
training's (the queries' ``max_length``, the student's split) and the search's (``k``). The judgements
are not read here: the ``evaluate`` rules score the run (:func:`swimscale.retrieval.evaluate_search`),
so a qrels edit rescores without a new search, nor a new student.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from swimscale.config import Settings
from swimscale.data import read_queries
from swimscale.errors import InputError
from swimscale.formats import rebuild_command
from swimscale.model._queries import QueryStates, TextQueries, encode_queries, state_settings
from swimscale.model._student import StudentModel
from swimscale.retrieval import check_run, load_index, search, write_run, write_search_record


@dataclass(frozen=True)
class BenchmarkFiles:
    """What searching one benchmark reads (queries, the collection's index and docids, the queries' prefix
    states when cached) and writes (the run, the search's record)."""

    queries: Path
    index: Path
    docids: Path
    run: Path
    searched: Path
    states: Path | None = None

    @classmethod
    def from_paths(cls, paths: dict) -> BenchmarkFiles:
        """From {name: path} (the workflow's per-benchmark mapping; ``states`` optional)."""
        fields = [name for name in cls.__dataclass_fields__ if name != "states"]
        states = paths.get("states")
        return cls(**{name: Path(paths[name]) for name in fields}, states=Path(states) if states else None)


def _fail(path: Path, what: str) -> InputError:
    return InputError(f"{path}: {what}; rebuild it: {rebuild_command(path)}")


def check_search_inputs(files: BenchmarkFiles, hidden_size: int) -> None:
    """Opens and checks what searching one benchmark will read, before a training job's first update
    (a bad file then costs seconds, not a training run): the FAISS index readable, its vectors of the
    model's dimension `hidden_size` and as many as the docids (one id per corpus row, as encoded), the
    queries non-empty and, when cached, their prefix states readable, one span per query of those
    queries and of the model's dimension. Raises :class:`~swimscale.errors.InputError` naming the file."""
    queries = read_queries(files.queries)
    if not queries:
        raise _fail(files.queries, "no queries")
    docids = files.docids.read_text(encoding="utf-8").split()
    try:
        index = load_index(files.index)
    except (RuntimeError, OSError) as error:
        raise _fail(files.index, f"not a readable FAISS index ({str(error).splitlines()[0][:200]})") from None
    if index.ntotal != len(docids):
        raise _fail(files.index, f"holds {index.ntotal} vectors but {files.docids} has {len(docids)} ids")
    if index.d != hidden_size:
        raise _fail(files.index, f"vectors of dimension {index.d}, the model's are {hidden_size}")
    if files.states is not None:
        _check_states(files.states, set(queries), hidden_size)


def _check_states(path: Path, qids: set, hidden_size: int) -> None:
    try:
        states = QueryStates.load(path)
    except Exception as error:  # safetensors raises its own errors on a file cut short or edited
        raise _fail(path, f"unreadable query states ({type(error).__name__}: {str(error)[:200]})") from None
    shape = tuple(states.states.shape)
    if len(shape) != 2 or shape[1] != hidden_size or len(states.offsets) != len(states.ids) + 1 \
            or int(states.offsets[-1]) != shape[0]:
        raise _fail(path, f"states of shape {shape} with {len(states.offsets)} offsets for {len(states.ids)} "
                          f"queries (expected (tokens, {hidden_size}) and one span per query)")
    if set(states.ids) != qids:
        raise _fail(path, f"states of {len(states.ids)} queries, the benchmark has {len(qids)} others")


def search_benchmark(student: StudentModel, tokenizer, files: BenchmarkFiles, settings: Settings, tag: str) -> dict:
    """Searches one benchmark (the module docstring); returns the search's record (queries file and its
    SHA-256, ``k``, ``n_documents``), written to ``files.searched``."""
    queries = read_queries(files.queries)
    qids = list(queries)
    docids = files.docids.read_text(encoding="utf-8").split()
    if student.cached:
        if files.states is None:
            raise ValueError(f"{files.queries}: a student with a frozen prefix reads its queries' cached states")
        inputs = QueryStates.load(files.states)
        inputs.check(state_settings(settings.teacher, settings.train, student))
    else:
        inputs = TextQueries(tokenizer, settings.train.max_length, queries)
    embeddings = encode_queries(student, inputs, qids, settings.teacher)
    index = load_index(files.index)
    files.run.parent.mkdir(parents=True, exist_ok=True)
    k = settings.search.k
    write_run(files.run, search(index, embeddings, qids, docids, k), tag)
    check_run(files.run, qids, k, index.ntotal)  # the file as written is whole
    return write_search_record(files.searched, files.queries, k, index.ntotal)
