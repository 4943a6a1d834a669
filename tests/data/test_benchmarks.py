"""Benchmark loaders on fixtures in the real formats: the XTREME-UP JSONL release (read from disk and
downloaded from a file:// URL as a .tgz), CLIRMatrix through ir_datasets' own classes with only the
download layer pre-staged, and local TREC-style files; each benchmark written against its collection,
which benchmarks sharing it prepare once."""

import gzip
import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from swimscale import data
from swimscale.config import defaults
from swimscale.data import benchmarks
from swimscale.retrieval import _metrics as metrics

ROOT = Path(__file__).resolve().parents[2]


def entry(source, language, **keys):
    """A `benchmarks.<name>` config entry as Snakemake hands it to the job: the schema's defaults filled in."""
    return {**defaults("benchmarks"), "source": source, "language": language, **keys}


def write_lines(path, rows):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r, ensure_ascii=False)) + "\n" for r in rows),
                    encoding="utf-8")
    return path


def xtreme_up_release(root, languages=("bho", "as"), n_queries=4, n_index=12):
    """`xtreme_up_v1.1/retrieval_cross_lang/{train,validation,test}/<lang>.jsonl` (id, title, context,
    question; id = the gold passage) and `retrieval_cross_lang/index.jsonl` (id, title, context)."""
    task = root / "xtreme_up_v1.1" / "retrieval_cross_lang"
    index = [{"id": f"p{i}", "title": f"Article {i}", "context": f"English passage {i}."} for i in range(n_index)]
    write_lines(task / "index.jsonl", index)
    for split in ("train", "validation", "test"):
        for lang in languages:
            rows = [{"id": f"p{(i * 2) % n_index}", "title": f"Article {(i * 2) % n_index}",
                     "context": f"English passage {(i * 2) % n_index}.", "question": f"{lang} {split} question {i}?"}
                    for i in range(n_queries)]
            rows.append({**rows[0], "question": f"{lang} {split} another question about the first passage"})
            write_lines(task / split / f"{lang}.jsonl", rows)
    return root


def out_paths(tmp_path, name="b"):
    base = tmp_path / "out" / "benchmarks" / name
    return data.BenchmarkFiles(queries=base / "queries.tsv", qrels=base / "qrels.txt",
                               manifest=tmp_path / "out" / f"benchmark-{name}.json")


def collection_paths(tmp_path, collection):
    return data.CollectionFiles(corpus=tmp_path / "out" / "collections" / collection / "corpus.jsonl",
                                manifest=tmp_path / "out" / f"collection-{collection}.json")


def prepare(tmp_path, name, bench, data_dir, members=None):
    """The two jobs as the rules run them: the benchmark's collection (for all its `members`), then the
    benchmark against it. Returns (collection manifest, benchmark manifest, benchmark files, corpus)."""
    members = members or {name: bench}
    collection = benchmarks.collection_of(name, bench)
    corpus = collection_paths(tmp_path, collection)
    collection_manifest = benchmarks.prepare_collection(collection, members, corpus, data_dir)
    files = out_paths(tmp_path, name)
    manifest = benchmarks.prepare_benchmark(name, bench, corpus.corpus, files, data_dir)
    return collection_manifest, manifest, files, corpus.corpus


def read_back(paths, corpus):
    queries = data.read_queries(paths.queries)
    docids, texts = data.read_corpus(corpus)
    qrels = metrics.read_qrels(paths.qrels)
    return queries, docids, texts, qrels


def test_xtreme_up_from_the_extracted_release(tmp_path):
    release = xtreme_up_release(tmp_path / "release")
    bench = entry("xtreme_up", "bho", path=str(release))
    collection, manifest, paths, corpus = prepare(tmp_path, "xtreme-up-bho", bench, tmp_path / "data")
    queries, docids, texts, qrels = read_back(paths, corpus)
    assert list(queries) == [f"bho-test-{n:06d}" for n in range(1, 6)]  # line numbers: queries may share a passage
    assert queries["bho-test-000001"] == "bho test question 0?"
    assert qrels["bho-test-000001"] == {"p0": 1} and qrels["bho-test-000005"] == {"p0": 1}
    assert docids == [f"p{i}" for i in range(12)] and texts[3] == "Article 3. English passage 3."
    assert corpus == tmp_path / "out" / "collections" / "xtreme-up" / "corpus.jsonl"  # one index, one collection
    assert collection["members"] == ["xtreme-up-bho"] and collection["counts"]["corpus_documents"] == 12
    assert manifest["counts"]["queries"] == 5 and manifest["counts"]["queries_read"] == 5
    assert manifest["split"] == "test" and manifest["files"][str(paths.qrels)] == data.sha256_of(paths.qrels)
    task = release / "xtreme_up_v1.1" / "retrieval_cross_lang"
    assert manifest["inputs"] == {str(task / "test" / "bho.jsonl"): data.sha256_of(task / "test" / "bho.jsonl")}
    assert collection["inputs"] == {str(task / "index.jsonl"): data.sha256_of(task / "index.jsonl")}
    assert list(manifest)[:5] == ["source", "benchmark", "language", "role", "collection"]
    assert manifest["role"] == "test" and manifest["collection"] == "xtreme-up"
    assert not (tmp_path / "data").exists()  # read from `path`: nothing downloaded


def test_languages_and_splits_share_one_collection(tmp_path):
    """bho test, bho validation (a dev benchmark) and as test search one corpus, written once."""
    release = xtreme_up_release(tmp_path / "release")
    members = {
        "xtreme-up-bho": entry("xtreme_up", "bho", path=str(release)),
        "xtreme-up-bho-dev": entry("xtreme_up", "bho", path=str(release), split="validation", role="dev"),
        "xtreme-up-as": entry("xtreme_up", "as", path=str(release)),
    }
    assert {benchmarks.collection_of(n, b) for n, b in members.items()} == {"xtreme-up"}
    corpus = collection_paths(tmp_path, "xtreme-up")
    manifest = benchmarks.prepare_collection("xtreme-up", members, corpus, tmp_path / "data")
    assert manifest["members"] == sorted(members)
    for name, bench in members.items():
        written = benchmarks.prepare_benchmark(name, bench, corpus.corpus, out_paths(tmp_path, name), tmp_path / "data")
        assert written["collection"] == "xtreme-up" and written["role"] == bench["role"]
    assert data.read_queries(out_paths(tmp_path, "xtreme-up-bho-dev").queries)["bho-validation-000002"] == (
        "bho validation question 1?")


def test_xtreme_up_downloads_the_tgz_once_into_data_dir(tmp_path):
    release = xtreme_up_release(tmp_path / "release")
    archive = tmp_path / "xtreme-up-v1.1.jsonl.tgz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(release / "xtreme_up_v1.1", arcname="xtreme_up_v1.1")
        write_lines(tmp_path / "other" / "ner.jsonl", [{"x": 1}])
        tar.add(tmp_path / "other", arcname="xtreme_up_v1.1/ner")  # other tasks are not extracted
    data_dir = tmp_path / "data"
    prepare(tmp_path, "x", entry("xtreme_up", "as", split="validation", url=archive.as_uri()), data_dir)
    task = data_dir / "xtreme-up" / "xtreme_up_v1.1" / "retrieval_cross_lang"
    assert (task / "validation" / "as.jsonl").is_file() and not (data_dir / "xtreme-up" / "xtreme_up_v1.1" / "ner").exists()
    archive.unlink()  # the second benchmark finds the extracted release: no download
    _, _, again, _ = prepare(tmp_path, "y", entry("xtreme_up", "bho", url=archive.as_uri()), data_dir)
    assert data.read_queries(again.queries)["bho-test-000002"] == "bho test question 1?"


def test_xtreme_up_offline_says_what_to_download_and_where(tmp_path):
    url = (tmp_path / "missing.tgz").as_uri()
    with pytest.raises(data.DataMissingError) as err:
        prepare(tmp_path, "xtreme-up-bho", entry("xtreme_up", "bho", url=url), tmp_path / "data")
    message = str(err.value)
    assert f"downloads {url} itself" in message and "benchmarks.xtreme-up-bho.path" in message
    assert f"{tmp_path / 'data' / 'xtreme-up'}/xtreme_up_v1.1/retrieval_cross_lang/test/bho.jsonl" in message


def test_xtreme_up_bad_line_names_file_and_line(tmp_path):
    release = xtreme_up_release(tmp_path / "release")
    bad = release / "xtreme_up_v1.1" / "retrieval_cross_lang" / "test" / "bho.jsonl"
    bad.write_text(bad.read_text() + '{"id": "p1", "title": "t"}\n')
    with pytest.raises(ValueError, match=rf"{bad}: line 6: missing field\(s\) question"):
        prepare(tmp_path, "b", entry("xtreme_up", "bho", path=str(release)), tmp_path)


def test_duplicate_document_ids_stop_unless_dropped(tmp_path):
    """XTREME-UP v1.0's index repeated some passages: a repeated id stops, naming both lines; with
    on_bad_judgement: drop the first copy is kept, counted."""
    release = xtreme_up_release(tmp_path / "release")
    index = release / "xtreme_up_v1.1" / "retrieval_cross_lang" / "index.jsonl"
    index.write_text(index.read_text() + json.dumps({"id": "p0", "title": "Again", "context": "Other text."}) + "\n")
    with pytest.raises(ValueError, match=rf"{index}: line 13: duplicate document id 'p0' \(first at {index}: line 1\)"):
        prepare(tmp_path, "b", entry("xtreme_up", "bho", path=str(release)), tmp_path)
    collection, *_ = prepare(tmp_path, "b", entry("xtreme_up", "bho", path=str(release), on_bad_judgement="drop"),
                             tmp_path)
    assert collection["counts"]["duplicate_docids"] == 1 and collection["counts"]["corpus_documents"] == 12


def test_corpus_subset_keeps_judged_documents_and_is_seeded(tmp_path):
    def docs():
        return ((f"d{i}", "", f"doc {i}", f"d:{i}") for i in range(50))

    judged = {"d1", "d7", "d3", "gone"}
    paths = collection_paths(tmp_path, "c")
    counts = benchmarks.write_collection(benchmarks.Documents(docs), judged, paths, corpus_size=10, seed=4,
                                         on_duplicate="stop")
    docids, _ = data.read_corpus(paths.corpus)
    assert {"d1", "d7", "d3"} <= set(docids) and len(docids) == 10
    assert docids == sorted(docids, key=lambda d: int(d[1:]))  # source order
    assert counts["judged_documents_missing"] == 1 and counts["sampled_documents"] == 7
    again = collection_paths(tmp_path, "again")
    benchmarks.write_collection(benchmarks.Documents(docs), judged, again, corpus_size=10, seed=4, on_duplicate="stop")
    assert again.corpus.read_bytes() == paths.corpus.read_bytes()
    other_seed = collection_paths(tmp_path, "other")
    benchmarks.write_collection(benchmarks.Documents(docs), judged, other_seed, corpus_size=10, seed=5, on_duplicate="stop")
    assert other_seed.corpus.read_bytes() != paths.corpus.read_bytes()
    # More judged documents than corpus_size: every one is kept all the same, and no sample is drawn.
    many = collection_paths(tmp_path, "many")
    counts = benchmarks.write_collection(benchmarks.Documents(docs), {f"d{i}" for i in range(12)}, many, corpus_size=10,
                                         seed=4, on_duplicate="stop")
    assert data.read_corpus(many.corpus)[0] == [f"d{i}" for i in range(12)] and counts["sampled_documents"] == 0


def trec_files(root, queries="q1\tmbwa ili kuti?\nq2\tkodi\n", qrels="q1 0 d1 1\nq2 0 d2 3\n", corpus=None):
    root.mkdir(parents=True, exist_ok=True)
    (root / "q.tsv").write_text(queries, encoding="utf-8")
    write_lines(root / "c.jsonl", corpus or [{"docid": "d1", "title": "Dog", "text": "A dog."}, {"docid": "d2", "text": "Cat."}])
    (root / "qrels.txt").write_text(qrels, encoding="utf-8")
    return {"queries": str(root / "q.tsv"), "corpus": str(root / "c.jsonl"), "qrels": str(root / "qrels.txt")}


def test_trec_files(tmp_path):
    bench = entry("trec", "sw", **trec_files(tmp_path / "src"))
    collection, manifest, paths, corpus = prepare(tmp_path, "t", bench, tmp_path)
    queries, docids, texts, qrels = read_back(paths, corpus)
    assert queries == {"q1": "mbwa ili kuti?", "q2": "kodi"} and texts == ["Dog. A dog.", "Cat."]
    assert qrels == {"q1": {"d1": 1}, "q2": {"d2": 3}} and manifest["counts"]["corpus_documents"] == 2
    assert set(manifest["inputs"]) == {bench["queries"], bench["qrels"]} and set(collection["inputs"]) == {bench["corpus"]}
    # Two documents: Recall@50 is 1 whatever the run, and both manifests say so.
    assert collection["warnings"] == manifest["warnings"] == data.small_corpus_warnings(2) != []
    Path(bench["qrels"]).write_text("q1 0 d1 1\nq2 d2 3\n")
    with pytest.raises(ValueError, match=rf"{bench['qrels']}: line 2: expected 4 fields \(qid 0 docid relevance\), got 3"):
        prepare(tmp_path, "t", bench, tmp_path)
    with pytest.raises(data.DataMissingError, match="benchmarks.t.corpus"):
        prepare(tmp_path, "t", {**bench, "corpus": str(tmp_path / "none.jsonl")}, tmp_path)


def clirmatrix_home(home, splits=("test1",), query_languages=("yo",), n_docs=40):
    """ir_datasets' CLIRMatrix files where its downloader caches them: the download index
    (`clirmatrix_downloads.json.gz`), the English documents (TSV, `n_docs` of them, ids 1000, 1001, ...)
    and one query file per query language and split (JSONL with src_id, src_query, tgt_results) — so
    its own loaders run and nothing is fetched. Each language's queries judge their own documents."""
    base = home / "clirmatrix"
    base.mkdir(parents=True)
    queries = {f"queries/{lang}_en/{split}": {"url": f"https://unreachable.invalid/{lang}_en.{split}.jsonl.gz",
                                              "cache_path": f"bi139-base/{lang}_en.{split}.jsonl.gz"}
               for lang in query_languages for split in splits}
    index = {
        "clirmatrix_docs": {"docs/en": {"url": "https://unreachable.invalid/en.tsv.gz", "cache_path": "docs/en.tsv.gz"}},
        "clirmatrix_bi139_base": queries,
    }
    with gzip.open(base / "clirmatrix_downloads.json.gz", "wt") as handle:
        json.dump(index, handle)
    (base / "docs").mkdir()
    with gzip.open(base / "docs" / "en.tsv.gz", "wt", encoding="utf-8") as handle:
        for i in range(n_docs):
            handle.write(f"{1000 + i}\tEnglish Wikipedia passage {i} .\n")
    (base / "bi139-base").mkdir()
    for shift, lang in enumerate(query_languages):
        for offset, split in enumerate(splits):
            with gzip.open(base / "bi139-base" / f"{lang}_en.{split}.jsonl.gz", "wt", encoding="utf-8") as handle:
                for q in range(3):
                    d = 1000 + 3 * (offset + len(splits) * shift) + q
                    results = [[str(d), 6], [str(d + 10), 2], [str(d + 20), 0]]
                    handle.write(json.dumps({"src_id": f"{lang}{offset}{q}", "src_query": f"ìbéèrè {offset} {q}",
                                             "tgt_results": results}, ensure_ascii=False) + "\n")


IR_DATASETS_JOBS = (
    "import json, sys; from swimscale import data\nfrom swimscale.data import benchmarks\n"
    "members, data_dir, out = json.loads(sys.argv[1]), sys.argv[2], sys.argv[3]\n"
    "corpus = data.CollectionFiles.at(out + '/corpus.jsonl', out + '/collection.json')\n"
    "try:\n"
    "    c = benchmarks.prepare_collection('clirmatrix-en', members, corpus, data_dir)\n"
    "    m = {n: benchmarks.prepare_benchmark(n, b, corpus.corpus, data.BenchmarkFiles.at(\n"
    "        f'{out}/{n}/queries.tsv', f'{out}/{n}/qrels.txt', f'{out}/{n}.json'), data_dir) for n, b in members.items()}\n"
    "    print(json.dumps({'collection': c, 'benchmarks': m}))\n"
    "except data.DataMissingError as err:\n"
    "    raise SystemExit(str(err))\n"
)


def run_ir_datasets(tmp_path, home, members):
    """In a subprocess: ir_datasets reads IR_DATASETS_HOME once, when it is imported."""
    env = {k: v for k, v in os.environ.items() if k != "IR_DATASETS_HOME"}
    env["PYTHONPATH"] = str(ROOT / "src")
    return subprocess.run([sys.executable, "-c", IR_DATASETS_JOBS, json.dumps(members), str(home.parent),
                           str(tmp_path / "out")], capture_output=True, text=True, env=env, timeout=300)


def test_clirmatrix_through_ir_datasets_own_loaders(tmp_path):
    """Two splits (test1 reported, dev) share collection clirmatrix-en: every document either judges, of
    every grade (6, 2 and 0 here, as CLIRMatrix grades 0-6), plus a seeded sample; relevance is
    CLIRMatrix's top grade (6) unless min_relevance says otherwise."""
    home = tmp_path / "data" / "ir_datasets"  # <data_dir>/ir_datasets
    clirmatrix_home(home, splits=("test1", "dev"))
    members = {
        "clirmatrix-yo-en": entry("ir_datasets", "yo", id="clirmatrix/en/bi139-base/yo/test1", corpus_size=20),
        "clirmatrix-yo-en-dev": entry("ir_datasets", "yo", id="clirmatrix/en/bi139-base/yo/dev", corpus_size=20,
                                      role="dev", min_relevance=2),
    }
    assert {benchmarks.collection_of(n, b) for n, b in members.items()} == {"clirmatrix-en"}
    result = run_ir_datasets(tmp_path, home, members)
    assert result.returncode == 0, result.stderr[-3000:]
    written = json.loads(result.stdout.strip().splitlines()[-1])
    out = tmp_path / "out"
    docids, _ = data.read_corpus(out / "corpus.jsonl")
    # Kept: every document a member judges, whatever its grade (the hard distractors graded 0-5 too); the
    # rest is a seeded sample of the unjudged documents. The manifest counts the judged ones by grade.
    judged = {str(1000 + 3 * split + q + k) for split in (0, 1) for q in range(3) for k in (0, 10, 20)}
    assert len(judged) == 18 and len(docids) == 20 and judged <= set(docids)
    counts = written["collection"]["counts"]
    assert counts["judged_documents_kept"] == 18 and counts["sampled_documents"] == 2
    assert counts["judged_documents_by_grade"] == {"0": 6, "2": 6, "6": 6} and counts["judged_documents_missing"] == 0
    assert "whatever its grade" in written["collection"]["formed"]["rule"]
    queries = data.read_queries(out / "clirmatrix-yo-en" / "queries.tsv")
    assert queries == {"yo00": "ìbéèrè 0 0", "yo01": "ìbéèrè 0 1", "yo02": "ìbéèrè 0 2"}
    assert metrics.read_qrels(out / "clirmatrix-yo-en" / "qrels.txt")["yo01"] == {"1001": 6}  # top grade only
    assert metrics.read_qrels(out / "clirmatrix-yo-en-dev" / "qrels.txt")["yo11"] == {"1004": 6, "1014": 2}
    test = written["benchmarks"]["clirmatrix-yo-en"]
    assert test["settings"]["min_relevance"] == 6 and test["counts"]["judgements_below_min_relevance"] == 6
    assert test["id"] == "clirmatrix/en/bi139-base/yo/test1" and test["ir_datasets_home"] == str(home)


def test_ir_datasets_offline_says_what_to_download(tmp_path):
    home = tmp_path / "data" / "ir_datasets"
    members = {"clirmatrix-yo-en": entry("ir_datasets", "yo", id="clirmatrix/en/bi139-base/yo/test1")}
    result = run_ir_datasets(tmp_path, home, members)
    assert result.returncode != 0
    assert "ir_datasets export clirmatrix/en/bi139-base/yo/test1 docs" in result.stderr
    assert f"IR_DATASETS_HOME={home}" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("blank", ["queries", "qrels", "corpus"])
def test_a_blank_trec_file_is_refused_at_preparation_naming_it(tmp_path, blank):
    """A file of blank or whitespace lines only would be prepared as an empty benchmark or collection
    and fail much later with a misleading message: refused here, naming the file."""
    bench = entry("trec", "sw", **trec_files(tmp_path / "src"))
    Path(bench[blank]).write_text("\n  \n\t\n")
    with pytest.raises(ValueError, match=rf"only blank lines: benchmarks\.t\.{blank}: {bench[blank]}"):
        prepare(tmp_path, "t", bench, tmp_path)


def test_a_collection_of_blank_documents_is_refused_naming_its_source(tmp_path):
    bench = entry("trec", "sw", **trec_files(tmp_path / "src"))
    Path(bench["corpus"]).write_text('{"docid": "d1", "title": "", "text": "  "}\n{"docid": "d2", "text": ""}\n')
    with pytest.raises(ValueError, match=rf"{bench['corpus']}: no document with a title or text \(2 blank\)"):
        prepare(tmp_path, "t", bench, tmp_path)
