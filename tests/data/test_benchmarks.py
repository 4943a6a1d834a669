"""Benchmark loaders on fixtures in the real formats: the XTREME-UP JSONL release (read from disk and
downloaded from a file:// URL as a .tgz), CLIRMatrix through ir_datasets' own classes with only the
download layer pre-staged, and local TREC-style files."""

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
    index.append(dict(index[0]))  # v1.0 had duplicates in the index: the first copy is kept
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
    base = tmp_path / "out" / name
    return data.BenchmarkFiles(queries=base / "queries.tsv", corpus=base / "corpus.jsonl", qrels=base / "qrels.txt",
                               manifest=tmp_path / "out" / f"benchmark-{name}.json")


def read_back(paths):
    queries = data.read_queries(paths.queries)
    docids, texts = data.read_corpus(paths.corpus)
    qrels = metrics.read_qrels(paths.qrels)
    return queries, docids, texts, qrels


def test_xtreme_up_from_the_extracted_release(tmp_path):
    release = xtreme_up_release(tmp_path / "release")
    paths = out_paths(tmp_path)
    manifest = benchmarks.prepare_xtreme_up("xtreme-up-bho", entry("xtreme_up", "bho", path=str(release)), paths,
                                            tmp_path / "data")
    queries, docids, texts, qrels = read_back(paths)
    assert list(queries) == [f"bho-test-{n:06d}" for n in range(1, 6)]  # line numbers: queries may share a passage
    assert queries["bho-test-000001"] == "bho test question 0?"
    assert qrels["bho-test-000001"] == {"p0": 1} and qrels["bho-test-000005"] == {"p0": 1}
    assert docids == [f"p{i}" for i in range(12)] and texts[3] == "Article 3. English passage 3."
    assert manifest["counts"]["duplicate_docids"] == 1 and manifest["counts"]["queries"] == 5
    assert manifest["split"] == "test" and manifest["files"][str(paths.qrels)] == data.sha256_of(paths.qrels)
    assert list(manifest)[:3] == ["source", "benchmark", "language"] and manifest["source"] == "xtreme_up"
    assert not (tmp_path / "data").exists()  # read from `path`: nothing downloaded


def test_xtreme_up_downloads_the_tgz_once_into_data_dir(tmp_path):
    release = xtreme_up_release(tmp_path / "release")
    archive = tmp_path / "xtreme-up-v1.1.jsonl.tgz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(release / "xtreme_up_v1.1", arcname="xtreme_up_v1.1")
        write_lines(tmp_path / "other" / "ner.jsonl", [{"x": 1}])
        tar.add(tmp_path / "other", arcname="xtreme_up_v1.1/ner")  # other tasks are not extracted
    data_dir = tmp_path / "data"
    paths = out_paths(tmp_path)
    benchmarks.prepare_xtreme_up("x", entry("xtreme_up", "as", split="validation", url=archive.as_uri()), paths, data_dir)
    task = data_dir / "xtreme-up" / "xtreme_up_v1.1" / "retrieval_cross_lang"
    assert (task / "validation" / "as.jsonl").is_file() and not (data_dir / "xtreme-up" / "xtreme_up_v1.1" / "ner").exists()
    archive.unlink()  # the second benchmark finds the extracted release: no download
    again = out_paths(tmp_path, "c")
    benchmarks.prepare_xtreme_up("y", entry("xtreme_up", "bho", url=archive.as_uri()), again, data_dir)
    assert data.read_queries(again.queries)["bho-test-000002"] == "bho test question 1?"


def test_xtreme_up_offline_says_what_to_download_and_where(tmp_path):
    url = (tmp_path / "missing.tgz").as_uri()
    with pytest.raises(data.DataMissingError) as err:
        benchmarks.prepare_xtreme_up("xtreme-up-bho", entry("xtreme_up", "bho", url=url), out_paths(tmp_path),
                                     tmp_path / "data")
    message = str(err.value)
    assert f"downloads {url} itself" in message and "benchmarks.xtreme-up-bho.path" in message
    assert f"{tmp_path / 'data' / 'xtreme-up'}/xtreme_up_v1.1/retrieval_cross_lang/test/bho.jsonl" in message


def test_xtreme_up_bad_line_names_file_and_line(tmp_path):
    release = xtreme_up_release(tmp_path / "release")
    bad = release / "xtreme_up_v1.1" / "retrieval_cross_lang" / "test" / "bho.jsonl"
    bad.write_text(bad.read_text() + '{"id": "p1", "title": "t"}\n')
    with pytest.raises(ValueError, match=rf"{bad}: line 6: missing field\(s\) question"):
        benchmarks.prepare_xtreme_up("b", entry("xtreme_up", "bho", path=str(release)), out_paths(tmp_path), tmp_path)


def test_corpus_subset_keeps_judged_documents_and_is_seeded(tmp_path):
    queries = [("q1", "first", "q:1"), ("q2", "second", "q:2"), ("q3", "no relevant", "q:3")]
    qrels = [("q1", "d1", 2, "r:1"), ("q1", "d7", 0, "r:2"), ("q2", "d3", 1, "r:3"), ("q2", "gone", 1, "r:4"),
             ("q3", "d4", 0, "r:5")]

    def docs():
        return ((f"d{i}", "", f"doc {i}", f"d:{i}") for i in range(50))

    paths = out_paths(tmp_path)
    counts = benchmarks.write_benchmark(iter(queries), iter(qrels), docs, paths, corpus_size=10, max_queries=None,
                                        seed=4)
    queries_out, docids, _, qrels_out = read_back(paths)
    assert list(queries_out) == ["q1", "q2"]  # q3 has no relevant document
    assert {"d1", "d7", "d3"} <= set(docids) and len(docids) == 10
    assert docids == sorted(docids, key=lambda d: int(d[1:]))  # source order
    assert qrels_out == {"q1": {"d1": 2, "d7": 0}, "q2": {"d3": 1}}
    assert counts["judged_documents_missing"] == 1 and counts["queries_without_relevant"] == 1
    again = out_paths(tmp_path, "again")
    benchmarks.write_benchmark(iter(queries), iter(qrels), docs, again, corpus_size=10, max_queries=None, seed=4)
    assert again.corpus.read_bytes() == paths.corpus.read_bytes()


def test_trec_files(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "q.tsv").write_text("q1\tmbwa ili kuti?\nq2\tkodi\n")
    write_lines(src / "c.jsonl", [{"docid": "d1", "title": "Dog", "text": "A dog."}, {"docid": "d2", "text": "Cat."}])
    (src / "qrels.txt").write_text("q1 0 d1 1\nq2 0 d2 3\n")
    paths = out_paths(tmp_path)
    bench = entry("trec", "sw", queries=str(src / "q.tsv"), corpus=str(src / "c.jsonl"), qrels=str(src / "qrels.txt"))
    manifest = benchmarks.prepare_trec("t", bench, paths, tmp_path)
    queries, docids, texts, qrels = read_back(paths)
    assert queries == {"q1": "mbwa ili kuti?", "q2": "kodi"} and texts == ["Dog. A dog.", "Cat."]
    assert qrels == {"q1": {"d1": 1}, "q2": {"d2": 3}} and manifest["counts"]["corpus_documents"] == 2
    (src / "qrels.txt").write_text("q1 0 d1 1\nq2 d2 3\n")
    with pytest.raises(ValueError, match=rf"{src / 'qrels.txt'}: line 2: expected 'qid 0 docid relevance'"):
        benchmarks.prepare_trec("t", bench, paths, tmp_path)
    with pytest.raises(data.DataMissingError, match="benchmarks.t.corpus"):
        benchmarks.prepare_trec("t", {**bench, "corpus": str(src / "none.jsonl")}, paths, tmp_path)


def clirmatrix_home(home):
    """ir_datasets' CLIRMatrix files where its downloader caches them: the download index
    (`clirmatrix_downloads.json.gz`), the English documents (TSV) and one query file (JSONL with
    src_id, src_query, tgt_results) — so its own loaders run and nothing is fetched."""
    base = home / "clirmatrix"
    base.mkdir(parents=True)
    index = {
        "clirmatrix_docs": {"docs/en": {"url": "https://unreachable.invalid/en.tsv.gz", "cache_path": "docs/en.tsv.gz"}},
        "clirmatrix_bi139_base": {"queries/yo_en/test1": {"url": "https://unreachable.invalid/yo_en.jsonl.gz",
                                                           "cache_path": "bi139-base/yo_en.test1.jsonl.gz"}},
    }
    with gzip.open(base / "clirmatrix_downloads.json.gz", "wt") as handle:
        json.dump(index, handle)
    (base / "docs").mkdir()
    with gzip.open(base / "docs" / "en.tsv.gz", "wt", encoding="utf-8") as handle:
        for i in range(30):
            handle.write(f"{1000 + i}\tEnglish Wikipedia passage {i} .\n")
    (base / "bi139-base").mkdir()
    with gzip.open(base / "bi139-base" / "yo_en.test1.jsonl.gz", "wt", encoding="utf-8") as handle:
        for q in range(3):
            results = [[str(1000 + q), 6], [str(1010 + q), 2], [str(1020 + q), 0]]
            handle.write(json.dumps({"src_id": f"yo{q}", "src_query": f"ìbéèrè {q}", "tgt_results": results},
                                    ensure_ascii=False) + "\n")


def run_ir_datasets(tmp_path, home, corpus_size):
    """In a subprocess: ir_datasets reads IR_DATASETS_HOME once, when it is imported."""
    paths = {k: str(v) for k, v in vars(out_paths(tmp_path)).items()}
    bench = entry("ir_datasets", "yo", id="clirmatrix/en/bi139-base/yo/test1", corpus_size=corpus_size)
    code = (
        "import json, sys; from pathlib import Path; from swimscale import data\nfrom swimscale.data import benchmarks\n"
        "files = data.BenchmarkFiles.at(**json.loads(sys.argv[1]))\n"
        "try:\n"
        "    m = benchmarks.prepare_benchmark('clirmatrix-yo-en', json.loads(sys.argv[3]), files, sys.argv[2])\n"
        "    print(json.dumps(m['counts']))\n"
        "except data.DataMissingError as err:\n"
        "    raise SystemExit(str(err))\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "IR_DATASETS_HOME"}
    env["PYTHONPATH"] = str(ROOT / "src")
    return subprocess.run([sys.executable, "-c", code, json.dumps(paths), str(home.parent), json.dumps(bench)],
                          capture_output=True, text=True, env=env, timeout=300)


def test_clirmatrix_through_ir_datasets_own_loaders(tmp_path):
    home = tmp_path / "data" / "ir_datasets"  # <data_dir>/ir_datasets
    clirmatrix_home(home)
    result = run_ir_datasets(tmp_path, home, corpus_size=12)
    assert result.returncode == 0, result.stderr[-3000:]
    counts = json.loads(result.stdout.strip().splitlines()[-1])
    paths = out_paths(tmp_path)
    queries, docids, _, qrels = read_back(paths)
    assert queries == {"yo0": "ìbéèrè 0", "yo1": "ìbéèrè 1", "yo2": "ìbéèrè 2"}
    assert qrels["yo1"] == {"1001": 6, "1011": 2, "1021": 0}  # graded CLIRMatrix relevance, 0 kept as judged
    assert len(docids) == 12 and {"1000", "1010", "1020", "1002"} <= set(docids)
    assert counts["documents_read"] == 30 and counts["corpus_documents"] == 12
    manifest = json.loads(paths.manifest.read_text())
    assert manifest["id"] == "clirmatrix/en/bi139-base/yo/test1" and manifest["ir_datasets_home"] == str(home)


def test_ir_datasets_offline_says_what_to_download(tmp_path):
    home = tmp_path / "data" / "ir_datasets"
    result = run_ir_datasets(tmp_path, home, corpus_size=None)
    assert result.returncode != 0
    assert "ir_datasets export clirmatrix/en/bi139-base/yo/test1 docs" in result.stderr
    assert f"IR_DATASETS_HOME={home}" in result.stderr and "Traceback" not in result.stderr
