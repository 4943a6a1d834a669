"""A student's search of a test benchmark (swimscale.model.search_benchmark), as the training job and
search_zero_shot run it, scored as the evaluate rules score it (swimscale.retrieval.evaluate_search),
and the student it searches with (as_stored: the student its file holds)."""

import dataclasses
import json

import numpy as np
import pytest
import pytrec_eval
import torch

from swimscale.config import SearchSettings, Settings
from swimscale.model import (
    BenchmarkFiles,
    StudentModel,
    as_stored,
    encode_query_states,
    encode_texts,
    load_encoder,
    load_student,
    save_student,
    search_benchmark,
)
from swimscale.retrieval import build_flat_ip, evaluate_search, save_index
from tests.model.bible import TEACHER, dev_parts, teacher_settings, train_settings

# The study's settings as the search reads them: queries up to 64 tokens encoded in batches of 8, k = 20.
SETTINGS = Settings(teacher_settings(max_length=64, batch_size=8), train_settings(max_length=64), SearchSettings(k=20))
SPLIT = dataclasses.replace(SETTINGS.train, trainable_layers=1, freeze_embeddings=True)  # a frozen prefix


@pytest.fixture(scope="module")
def teacher():
    torch.set_num_threads(1)
    return load_encoder(TEACHER, torch.device("cpu"))


def perturbed_student(trainable_layers=1):
    _, model = load_encoder(TEACHER, torch.device("cpu"))
    student = StudentModel(model, trainable_layers, trainable_layers is not None, None)
    with torch.no_grad():
        for p in student.parameters():
            if p.requires_grad:
                p.add_(torch.randn_like(p) * 1e-3)
    return student


@pytest.mark.parametrize("dtype", [None, "float32", "float16"])
def test_as_stored_is_the_student_its_file_holds(tmp_path, dtype):
    """The training job searches with the student in memory: it must be exactly what load_student reads
    back from the file save_student wrote (float16: the rounded parameters), in eval mode."""
    student = perturbed_student()
    before = student.trainable_state()
    path = tmp_path / "student.safetensors"
    save_student(student, path, dtype)
    student.model.train()
    stored = as_stored(student, dtype)
    _, loaded = load_student(SETTINGS.teacher, SPLIT, path, torch.device("cpu"))
    assert stored is student and not stored.model.training
    loaded_parameters = dict(loaded.model.named_parameters())
    for name, value in stored.trainable_state().items():
        assert value.dtype == torch.float32 and torch.equal(value, loaded_parameters[name]), name
    changed = any(not torch.equal(before[name], value) for name, value in stored.trainable_state().items())
    assert changed == (dtype == "float16")  # rounded only when the file is half precision


@pytest.fixture(scope="module")
def benchmark(tmp_path_factory, teacher):
    """A small benchmark laid out as the workflow prepares it: queries.tsv, qrels.txt, the collection's
    index and docids (teacher embeddings, L2-normalised)."""
    tokenizer, model = teacher
    queries, documents, docids, qrels = dev_parts(12)
    queries = {qid: queries[qid] for qid in qrels}
    root = tmp_path_factory.mktemp("bench")
    (root / "queries.tsv").write_text("".join(f"{q}\t{t}\n" for q, t in queries.items()), encoding="utf-8")
    (root / "qrels.txt").write_text("".join(f"{q} 0 {d} {r}\n" for q, judged in qrels.items()
                                            for d, r in judged.items()))
    (root / "docids.txt").write_text("\n".join(docids) + "\n")
    corpus = encode_texts(tokenizer, model, documents, dataclasses.replace(SETTINGS.teacher, batch_size=16))
    save_index(build_flat_ip(corpus, True), root / "flat_ip.faiss")
    return root, queries, qrels, docids


def paths(root, out, states=None):
    """The paths of one benchmark's search and evaluation, by role (as the workflow's params give them)."""
    return {"queries": root / "queries.tsv", "qrels": root / "qrels.txt", "index": root / "flat_ip.faiss",
            "docids": root / "docids.txt", "run": out / "search" / "b.trec", "searched": out / "search" / "b.searched.json",
            "metrics": out / "evaluate" / "b.json", "per_query": out / "evaluate" / "b.per_query.tsv", "states": states}


def files(root, out, states=None):
    return BenchmarkFiles.from_paths(paths(root, out, states))


def searched_and_scored(student, tokenizer, root, out, states=None, tag="t"):
    """Searches as a training job does, then scores the run as the evaluate rule does: the means."""
    search_benchmark(student, tokenizer, files(root, out, states), SETTINGS, tag=tag)
    return evaluate_search(paths(root, out, states), search_again="(search again)")


def test_search_benchmark_writes_a_whole_run_and_trec_evals_metrics(tmp_path, benchmark):
    root, queries, qrels, docids = benchmark
    tokenizer, student = load_student(SETTINGS.teacher, SETTINGS.train, None, torch.device("cpu"))
    record = search_benchmark(student, tokenizer, files(root, tmp_path), SETTINGS, tag="zero_shot")
    assert json.loads((tmp_path / "search" / "b.searched.json").read_text()) == record
    assert record["k"] == SETTINGS.search.k and record["n_documents"] == len(docids)
    assert not (tmp_path / "evaluate").exists()  # the judgements are not read by the search
    summary = evaluate_search(paths(root, tmp_path), search_again="(search again)")
    lines = (tmp_path / "search" / "b.trec").read_text().splitlines()
    assert len(lines) == len(queries) * SETTINGS.search.k and all(line.split()[5] == "zero_shot" for line in lines)
    run = {}
    for line in lines:
        qid, _, docid, _, score, _ = line.split()
        run.setdefault(qid, {})[docid] = float(score)
    assert set(run) == set(queries) and all(set(ranked) <= set(docids) for ranked in run.values())
    reference = pytrec_eval.RelevanceEvaluator(qrels, {"recall.50", "ndcg_cut.10"}).evaluate(run)
    assert summary["n_queries"] == len(qrels)
    assert summary["recall_at_50"] == pytest.approx(np.mean([r["recall_50"] for r in reference.values()]))
    assert summary["ndcg_at_10"] == pytest.approx(np.mean([r["ndcg_cut_10"] for r in reference.values()]))
    assert json.loads((tmp_path / "evaluate" / "b.json").read_text()) == summary
    per_query = (tmp_path / "evaluate" / "b.per_query.tsv").read_text().splitlines()
    assert per_query[0].startswith("qid\trecall_at_50") and len(per_query) == 1 + len(qrels)


def test_a_cached_student_reads_its_queries_prefix_states_and_needs_them(tmp_path, benchmark, teacher):
    """With a frozen prefix, the search reads the queries' cached states (and refuses to run without
    them); its run is that of the same student reading the text (the states reproduce the prefix)."""
    root, queries, _, _ = benchmark
    tokenizer, _ = teacher
    student = perturbed_student(trainable_layers=1)
    ids = list(queries)
    states = encode_query_states(tokenizer, student, ids, [queries[q] for q in ids], SETTINGS.teacher, SETTINGS.train)
    states.save(tmp_path / "states.safetensors")
    with pytest.raises(ValueError, match="cached states"):
        search_benchmark(student, tokenizer, files(root, tmp_path / "none"), SETTINGS, tag="t")
    cached = searched_and_scored(student, tokenizer, root, tmp_path / "a", tmp_path / "states.safetensors")
    whole = StudentModel(student.model, None, False, None)  # the same weights, read from the text
    from_text = searched_and_scored(whole, tokenizer, root, tmp_path / "b")
    assert cached == pytest.approx(from_text)
    a = [line.split()[2] for line in (tmp_path / "a" / "search" / "b.trec").read_text().splitlines()]
    b = [line.split()[2] for line in (tmp_path / "b" / "search" / "b.trec").read_text().splitlines()]
    assert a == b


# --- a training job's search inputs, checked before its first update ---------------------------------

def _search_files(tmp_path, n_docs=5, dim=8, n_ids=None):
    from swimscale.model import check_search_inputs  # noqa: F401  (the name the tests below use)

    (tmp_path / "queries.tsv").write_text("q1\tone\nq2\ttwo\n")
    (tmp_path / "qrels.txt").write_text("q1 0 d0 1\n")
    (tmp_path / "docids.txt").write_text("\n".join(f"d{i}" for i in range(n_ids or n_docs)) + "\n")
    vectors = np.random.default_rng(0).standard_normal((n_docs, dim)).astype(np.float32)
    save_index(build_flat_ip(vectors, False), tmp_path / "flat_ip.faiss")
    return BenchmarkFiles(*(tmp_path / n for n in ("queries.tsv", "flat_ip.faiss", "docids.txt")),
                          *(tmp_path / n for n in ("run.trec", "run.searched.json")))


def test_good_search_inputs_pass(tmp_path):
    from swimscale.model import check_search_inputs

    check_search_inputs(_search_files(tmp_path), 8)


@pytest.mark.parametrize("fault, match", [
    ("truncated_index", r"flat_ip.faiss: not a readable FAISS index"),
    ("ids", r"flat_ip.faiss: holds 5 vectors but .*docids.txt has 4 ids"),
    ("dimension", r"flat_ip.faiss: vectors of dimension 8, the model's are 16"),
    ("states", r"states.safetensors: unreadable query states"),
])
def test_bad_search_inputs_are_refused_naming_the_file(tmp_path, fault, match):
    from swimscale.errors import InputError
    from swimscale.model import check_search_inputs

    files = _search_files(tmp_path, n_ids=4 if fault == "ids" else None)
    dim = 16 if fault == "dimension" else 8
    if fault == "truncated_index":
        data = files.index.read_bytes()
        files.index.write_bytes(data[: len(data) // 2])
    if fault == "states":
        (tmp_path / "states.safetensors").write_bytes(b"\x08\x00\x00\x00\x00\x00\x00\x00{\"a\":")
        files = dataclasses.replace(files, states=tmp_path / "states.safetensors")
    with pytest.raises(InputError, match=match) as error:
        check_search_inputs(files, dim)
    assert "\n" not in str(error.value) and "rebuild it: rm '" in str(error.value)
