"""Bad input stops the workflow before any training, with a message that names the key, file or line,
and leaves no training output behind. Models load without remote code and from safetensors only.

Three places, each tested through the real workflow (not a dry run):

- the config, when Snakemake builds the DAG (JSON schema, then swimscale.config.check_config from
  common.smk): a broken copy of the tiny config, or input files named in it that are missing or empty;
- SWIM-IR records, in the prepare_pool job (swimscale.data.prepare_pool): a local release with one bad
  record, Snakemake asked for the language's teacher tokens (the first training step);
- prepared pools and benchmarks, in the `validate` job that every training job of the language needs
  (swimscale.data.check_language): prepared files with one defect laid into the working directory.
"""

import ast
import copy
import json
from pathlib import Path

import pytest
import yaml

from swimscale import config as validate
from swimscale.data import _validate as data_validate
from swimscale.errors import InputError
from swimscale.formats import write_sidecar

ROOT = Path(__file__).resolve().parents[2]


def write_config(directory, config):
    path = Path(directory) / "config.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


# --- config level: stopped when the DAG is built -----------------------------------------------


def _set(path, value):
    def change(config, tmp_path):
        node = config
        for key in path[:-1]:
            node = node.setdefault(key, {})
        node[path[-1]] = value(tmp_path) if callable(value) else value

    return change


def _without(field):
    def change(record):
        del record[field]
        return record

    return change


def _pickle_only_model(tmp_path):
    model = tmp_path / "pickled-model"
    model.mkdir()
    (model / "config.json").write_text('{"model_type": "bert"}')
    (model / "pytorch_model.bin").write_bytes(b"not a safetensors file")
    return str(model)


def _escape_pool(config, tmp_path):
    config["pools"]["../x"] = {"source": "bible", "language_name": "X"}


def _escape_benchmark(config, tmp_path):
    config["benchmarks"]["../b"] = {"source": "bible", "language": "ny"}


def _model_beside_a_typo(config, tmp_path):
    """models/mdpr exists in the working directory; the config says models/mdrp."""
    model = tmp_path / "work" / "models" / "mdpr"
    model.mkdir(parents=True)
    (model / "config.json").write_text("{}")
    (model / "model.safetensors").write_bytes(b"x")
    config["teacher"]["model"] = "models/mdrp"


def _without_dev_benchmark(config, tmp_path):
    config["benchmarks"] = {name: b for name, b in config["benchmarks"].items() if b.get("role") != "dev"}


CONFIG_CASES = {
    "converged_without_dev": (_without_dev_benchmark,
                              ["config 'train.budget' is converged, which selects each student of language 'ny' on "
                               "one dev benchmark", "found none"]),
    "unknown_key": (_set(["train", "learning_rate"], 1e-4),
                    ["config 'train': Additional properties are not allowed ('learning_rate' was unexpected)"]),
    "unknown_top_level_key": (_set(["sizes_typo"], [1]),
                              ["config: Additional properties are not allowed ('sizes_typo' was unexpected)"]),
    "wrong_type": (_set(["train", "batch_size"], "16"), ["config 'train.batch_size': '16' is not of type 'integer'"]),
    "negative_size": (_set(["sizes"], [0, -32]), ["config 'sizes.1': -32 is less than the minimum of 0"]),
    "duplicate_size": (_set(["sizes"], [0, 32, 32]), ["config 'sizes'", "non-unique"]),
    "pool_sizes_empty": (_set(["pools", "ny", "sizes"], []), ["config 'pools.ny.sizes': [] should be non-empty"]),
    "unknown_choice": (_set(["pools", "ny", "on_bad_record"], "ignore"),
                       ["config 'pools.ny.on_bad_record': 'ignore' is not one of ['stop', 'skip']"]),
    "results_dir_empty": (_set(["results_dir"], ""), ["config 'results_dir': '' should be non-empty"]),
    "results_dir_blank": (_set(["results_dir"], " "), ["config 'results_dir': ' ' is empty or the filesystem root"]),
    "results_dir_root": (_set(["results_dir"], "/"), ["config 'results_dir': '/' is empty or the filesystem root"]),
    "data_dir_root": (_set(["data_dir"], "/"), ["config 'data_dir': '/' is empty or the filesystem root"]),
    "model_path_typo": (_model_beside_a_typo,
                        ["config 'teacher.model': model path 'models/mdrp' does not exist; models holds: mdpr"]),
    "bible_dev_books_none": (_set(["bible", "dev_book_every"], 10),
                             ["config 'bible.dev_book_every': 10 leaves no dev book beside the test books"]),
    "bible_corpus_below_queries": (_set(["bible", "corpus_size"], 10),
                                   ["config 'bible.corpus_size': 10 is below bible.n_queries = 40"]),
    "unknown_language_code": (_set(["languages"], ["yo"]), ["'yo'", "pools"]),
    "language_code_escapes_directory": (_set(["languages"], ["../x"]), ["config 'languages.0': '../x' does not match"]),
    "pool_key_escapes_directory": (_escape_pool, ["config 'pools.../x'", "not a language code"]),
    "benchmark_name_escapes_directory": (_escape_benchmark, ["config 'benchmarks.../b'", "no '..'"]),
    "teacher_name_escapes_directory": (_set(["teacher", "name"], ".."), ["config 'teacher.name'"]),
    "model_path_does_not_exist": (
        _set(["teacher", "model"], "/nonexistent/minilm"),
        ["config 'teacher.model'", "'/nonexistent/minilm' does not exist"],
    ),
    "model_without_safetensors": (
        _set(["teacher", "model"], _pickle_only_model),
        ["config 'teacher.model'", "no *.safetensors weights"],
    ),
    "unknown_bundled_model": (
        _set(["teacher", "model"], "bundled:no-such-model"),
        ["config 'teacher.model'", "unknown bundled model 'no-such-model'"],
    ),
    "partial_with_nothing_finished": (_set(["partial"], True), ["config 'partial'", "no run of the sweep has finished"]),
}


@pytest.mark.parametrize("case", sorted(CONFIG_CASES))
def test_bad_config_stops_before_any_job(case, tmp_path, workflow, tiny_config):
    change, expected = CONFIG_CASES[case]
    config = tiny_config
    change(config, tmp_path)
    work = tmp_path / "work"
    work.mkdir(exist_ok=True)
    returncode, output = workflow(work, write_config(tmp_path, config))
    assert returncode != 0, output[-3000:]
    for fragment in expected:
        assert fragment in output, f"{fragment!r} not in:\n{output[-3000:]}"
    assert "Failed validating" not in output  # one line naming the key, not the schema
    assert not (work / "results").exists() and not Path("/prepare").exists()  # nothing ran, nothing written


# --- input files named in the config (DAG-build time) and SWIM-IR records (prepare_pool) --------


def yo_records(n=40):
    return [
        {"_id": f"yo-{i}", "lang": "Yoruba", "code": "yo", "query": f"ìbéèrè adágún {i}?", "title": f"Title {i}",
         "text": f"English passage number {i} about a topic."}
        for i in range(n)
    ]


def lay_yo(tmp_path, pool_lines=None, drop=()):
    """A SWIM-IR release holding yo's records (`cross_lingual/yo/train.jsonl`) and a local TREC-style
    benchmark for yo; returns {name: path}. `drop`: files not to write."""
    src = tmp_path / "src"
    release = src / "swim_ir_v1"
    files = {
        "pool": (release / "cross_lingual" / "yo" / "train.jsonl",
                 "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in yo_records()) if pool_lines is None else pool_lines),
        "queries": (src / "yo-bench" / "queries.tsv", "".join(f"q{i}\tìbéèrè {i}\n" for i in range(5))),
        "corpus": (src / "yo-bench" / "corpus.jsonl",
                   "".join(json.dumps({"docid": f"d{i}", "title": "", "text": f"passage {i}"}) + "\n" for i in range(10))),
        "qrels": (src / "yo-bench" / "qrels.txt", "".join(f"q{i} 0 d{i} 1\n" for i in range(5))),
    }
    for name, (path, text) in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        if name not in drop:
            path.write_text(text, encoding="utf-8")
    release.mkdir(parents=True, exist_ok=True)
    return {"release": release, **{name: path for name, (path, _) in files.items()}}


def yo_config(tmp_path, tiny_config, files, sizes=(0, 8, 16)):
    config = copy.deepcopy(tiny_config)
    config["languages"] = ["yo"]
    config["pools"]["yo"] = {"source": "swimir_local", "path": str(files["release"]), "language_name": "Yoruba",
                             "sizes": list(sizes)}
    config["benchmarks"]["yo-local"] = {"source": "trec", "language": "yo",
                                        **{k: str(files[k]) for k in ("queries", "corpus", "qrels")}}
    config["train"]["budget"] = "fixed"  # yo has no dev benchmark, which the converged budget needs
    return write_config(tmp_path, config)


INPUT_FILE_CASES = {
    "swimir_release_folder_missing": (
        lambda files: {**files, "release": files["release"].parent / "nowhere"},
        (), ["config 'pools.yo.path'", "nowhere' does not exist"],
    ),
    "swimir_language_file_missing": (lambda files: files, ("pool",), ["config 'pools.yo.path'", "cross_lingual/yo/train.jsonl"]),
    "swimir_file_empty": (lambda files: files, (), ["config 'pools.yo.path'", "train.jsonl is empty"]),
    "benchmark_file_missing": (lambda files: files, ("qrels",), ["config 'benchmarks.yo-local.qrels'", "does not exist"]),
}


@pytest.mark.parametrize("case", sorted(INPUT_FILE_CASES))
def test_missing_or_empty_input_file_stops_before_any_job(case, tmp_path, workflow, tiny_config):
    change, drop, expected = INPUT_FILE_CASES[case]
    files = lay_yo(tmp_path, pool_lines="" if case == "swimir_file_empty" else None, drop=drop)
    work = tmp_path / "work"
    work.mkdir()
    returncode, output = workflow(work, yo_config(tmp_path, tiny_config, change(files)))
    assert returncode != 0, output[-3000:]
    for fragment in expected:
        assert fragment in output, f"{fragment!r} not in:\n{output[-3000:]}"
    assert not (work / "results").exists()


def yo_with(line_no, change):
    lines = []
    for i, record in enumerate(yo_records(), 1):
        if i == line_no:
            record = change(dict(record))
        lines.append(record if isinstance(record, str) else json.dumps(record, ensure_ascii=False))
    return "".join(line + "\n" for line in lines)


SWIMIR_CASES = {
    "malformed_json_line": (dict(pool_lines=yo_with(3, lambda r: '{"_id": "yo-2", "query": ')), ["line 3", "malformed JSON"]),
    "missing_field": (dict(pool_lines=yo_with(2, _without("text"))), ["line 2", "missing field(s) text"]),
    "empty_query": (dict(pool_lines=yo_with(4, lambda r: {**r, "query": " "})), ["line 4", "empty 'query'"]),
    "duplicate_id": (dict(pool_lines=yo_with(5, lambda r: {**r, "_id": "yo-0"})), ["line 5", "duplicate _id 'yo-0'"]),
    "wrong_language_code": (dict(pool_lines=yo_with(6, lambda r: {**r, "code": "sw"})), ["line 6", "code 'sw'"]),
    "size_larger_than_pool": (dict(sizes=(0, 8, 64)), ["size 64 asked", "only 40 usable records"]),
}


@pytest.mark.parametrize("case", sorted(SWIMIR_CASES))
def test_bad_swimir_record_stops_before_training(case, tmp_path, workflow, tiny_config):
    parts, expected = SWIMIR_CASES[case]
    files = lay_yo(tmp_path, pool_lines=parts.get("pool_lines"))
    work = tmp_path / "work"
    work.mkdir()
    returncode, output = workflow(work, yo_config(tmp_path, tiny_config, files, sizes=parts.get("sizes", (0, 8, 16))),
                                  "results/subsample/yo/seed0/n8.jsonl")
    assert returncode != 0, output[-3000:]
    for fragment in [*expected, "prepare_pool yo"]:
        assert fragment in output, f"{fragment!r} not in:\n{output[-3000:]}"
    if "line" in expected[0]:
        assert str(files["pool"]) in output  # the release file, not a copy
    assert not (work / "results" / "train").exists()
    assert not (work / "results" / "prepare" / "pools" / "yo.jsonl").exists()  # no partial pool


# --- data level: stopped by the validate rule, before teacher tokens and training ---------------


POOL = "results/prepare/pools/ny.jsonl"
BENCH = "results/prepare/benchmarks/bible-ny-en"
CORPUS = "results/prepare/collections/bible-ny-en/corpus.jsonl"
DEV = "results/prepare/benchmarks/bible-ny-en-dev"
DEV_CORPUS = "results/prepare/collections/bible-ny-en-dev/corpus.jsonl"
MANIFESTS = [f"results/prepare/manifests/{name}.json" for name in (
    "pool-ny", "benchmark-bible-ny-en", "benchmark-bible-ny-en-dev", "collection-bible-ny-en",
    "collection-bible-ny-en-dev")]
SAMPLE = "results/subsample/ny/seed0/n8.jsonl"  # the first step after validation


def pool_records(n=40):
    return [
        {"_id": f"p{i}", "lang": "Chichewa", "code": "ny", "query": f"funso la dziwe {i}", "title": "",
         "text": f"passage {i}", "query_en": f"question {i}"}
        for i in range(n)
    ]


def documents(n, word="document"):
    return "".join(json.dumps({"docid": f"d{i}", "title": "", "text": f"{word} {i}"}) + "\n" for i in range(n))


def lay_prepared(work, pool_lines=None, queries=None, corpus=None, qrels=None):
    """The outputs of prepare_bible for ny (pool, test and dev benchmarks, their collections, manifests),
    valid unless a part of the test benchmark or the pool is given."""
    work = Path(work)
    files = {
        POOL: "".join(json.dumps(r) + "\n" for r in pool_records()) if pool_lines is None else pool_lines,
        f"{BENCH}/queries.tsv": "".join(f"ny-q{i}\tfunso {i}\n" for i in range(5)) if queries is None else queries,
        CORPUS: documents(10) if corpus is None else corpus,
        f"{BENCH}/qrels.txt": "".join(f"ny-q{i} 0 d{i} 1\n" for i in range(5)) if qrels is None else qrels,
        f"{DEV}/queries.tsv": "".join(f"ny-v{i}\tswali {i}\n" for i in range(3)),
        DEV_CORPUS: documents(6, "dev document"),
        f"{DEV}/qrels.txt": "".join(f"ny-v{i} 0 d{i} 1\n" for i in range(3)),
        **{manifest: "{}\n" for manifest in MANIFESTS},
    }
    for name, text in files.items():
        (work / name).parent.mkdir(parents=True, exist_ok=True)
        (work / name).write_text(text)
        write_sidecar(work / name)  # as the prepare job would: what validate checks before reading
    return sorted([*files, *(f"{name}.sidecar.json" for name in files)])


def pool_with(line_no, change):
    """The valid pool with record `line_no` (1-based) replaced by change(record) (a string is written as is)."""
    lines = []
    for i, record in enumerate(pool_records(), 1):
        if i == line_no:
            record = change(dict(record))
        lines.append(record if isinstance(record, str) else json.dumps(record))
    return "".join(line + "\n" for line in lines)


DATA_CASES = {
    "empty_pool_file": (dict(pool_lines=""), [POOL, "empty"]),
    "malformed_json_line": (dict(pool_lines=pool_with(3, lambda r: '{"_id": "p2", "query": ')), [POOL, "line 3", "malformed JSON"]),
    "duplicate_id": (dict(pool_lines=pool_with(5, lambda r: {**r, "_id": "p0"})), [POOL, "line 5", "duplicate _id 'p0'"]),
    "size_larger_than_pool": (dict(sizes=[0, 8, 64]), ["results/validate/ny/pool.jsonl", "40 records"]),
    "qrels_document_not_in_corpus": (
        dict(qrels="ny-q0 0 d0 1\nny-q1 0 d99 1\nny-q2 0 d2 1\nny-q3 0 d3 1\nny-q4 0 d4 1\n"),
        ["qrels.txt: line 2", "document 'd99' is not in the corpus"],
    ),
    "query_without_qrels": (
        dict(qrels="ny-q0 0 d0 1\nny-q1 0 d1 1\nny-q2 0 d2 1\nny-q4 0 d4 1\n"),
        ["queries.tsv", "query 'ny-q3'", "has no relevant document"],
    ),
    "qrels_query_not_in_queries": (
        dict(qrels="".join(f"ny-q{i} 0 d{i} 1\n" for i in range(5)) + "ny-q9 0 d1 1\n"),
        ["qrels.txt: line 6", "query 'ny-q9' is not in"],
    ),
    "empty_corpus_file": (dict(corpus=""), ["corpus.jsonl", "is empty"]),
    "empty_query_in_benchmark": (dict(queries="ny-q0\tfunso 0\nny-q1\t \n"), ["queries.tsv: line 2"]),
    "pool_field_not_a_string": (dict(pool_lines=pool_with(4, lambda r: {**r, "query": ["a", "list"]})),
                                [POOL, "line 4", "field 'query' is a list, not a string"]),
    "overlap_stop": (dict(pool_lines=pool_with(2, lambda r: {**r, "text": "Document 3."}), overlap="stop"),
                     [POOL, "record 2", "is document 'd3', relevant to a query of benchmark 'bible-ny-en'"]),
}


def data_config(tmp_path, tiny_config, sizes=(0, 8, 16), overlap=None):
    config = copy.deepcopy(tiny_config)
    config["sizes"] = list(sizes)
    if overlap is not None:
        config["pools"]["ny"]["overlap"] = overlap
    return write_config(tmp_path, config)


def test_valid_prepared_data_passes_validation(tmp_path, workflow, tiny_config):
    """The data of the cases below, without a defect, passes: each case fails for its defect alone. A
    pool record whose passage is a relevant test document and one that is a dev distractor are counted;
    the first never reaches the validated pool (overlap: drop, the default), nor does one whose generated
    query is a test query but for case and punctuation (p5: `Funso 3!`, the test's `funso 3`)."""
    work = tmp_path / "work"
    lay_prepared(work, pool_lines=pool_with(2, lambda r: {**r, "text": " Document  3"}).replace(
        '"passage 7"', '"Dev document 5."').replace('"funso la dziwe 5"', '"Funso 3!"'))
    returncode, output = workflow(work, data_config(tmp_path, tiny_config), "results/validate/ny/report.json")
    assert returncode == 0, output[-3000:]
    report = json.loads((work / "results/validate/ny/report.json").read_text())
    assert report["pool_records"] == 38 and report["sizes"] == [8, 16]
    assert {k: report["benchmarks"]["bible-ny-en"][k] for k in ("role", "queries", "documents", "judgements")} == {
        "role": "test", "queries": 5, "documents": 10, "judgements": 5}
    assert report["benchmarks"]["bible-ny-en-dev"]["role"] == "dev"
    assert report["benchmarks"]["bible-ny-en"]["small_corpus"] and "small_corpus" in report["benchmarks"]["bible-ny-en"]["warnings"][0]
    assert report["overlap"]["benchmarks"] == {
        "bible-ny-en": {"relevant": 1, "other": 0, "near_duplicate": 0, "query": 1},
        "bible-ny-en-dev": {"relevant": 0, "other": 1, "near_duplicate": 0, "query": 0}}
    assert report["overlap"]["dropped"] == 2 and report["overlap"]["mode"] == "drop"
    assert report["overlap"]["overlapping_queries"] == 1 and report["overlap"]["overlapping_relevant"] == 1
    kept = [json.loads(line)["_id"] for line in (work / "results/validate/ny/pool.jsonl").read_text().splitlines()]
    assert not {"p1", "p5"} & set(kept) and "p7" in kept and len(kept) == 38
    # What the screen read, beside the report: evaluation checks the current judgements against it.
    screened = json.loads((work / "results/validate/ny/screened.json").read_text())
    assert "screened" not in report and set(screened) == {"bible-ny-en", "bible-ny-en-dev"}
    assert screened["bible-ny-en"]["relevant"] == [f"d{i}" for i in range(5)] and screened["bible-ny-en"]["role"] == "test"
    assert screened["bible-ny-en-dev"]["relevant"] == [f"d{i}" for i in range(3)]
    assert screened["bible-ny-en"]["qrels"] == f"{BENCH}/qrels.txt"


@pytest.mark.parametrize("case", sorted(DATA_CASES))
def test_bad_data_stops_before_training(case, tmp_path, workflow, tiny_config):
    parts, expected = DATA_CASES[case]
    parts = dict(parts)
    config = data_config(tmp_path, tiny_config, parts.pop("sizes", (0, 8, 16)), parts.pop("overlap", None))
    work = tmp_path / "work"
    laid = lay_prepared(work, **parts)
    returncode, output = workflow(work, config, SAMPLE)
    assert returncode != 0, output[-3000:]
    for fragment in expected:
        assert fragment in output, f"{fragment!r} not in:\n{output[-3000:]}"
    assert not (work / "results" / "subsample").exists()
    assert not (work / "results" / "validate").exists()  # neither the report nor a partial pool
    # The validate job ran and nothing else: no output besides the laid files and the failed job's log.
    outputs = sorted(str(p.relative_to(work)) for p in (work / "results").rglob("*") if p.is_file())
    assert outputs == sorted([*laid, "results/logs/validate/ny.log"])


# --- the same checks as functions -------------------------------------------------------------


def test_check_config_reads_relative_input_paths_from_the_working_directory(tmp_path, monkeypatch, tiny_config):
    files = lay_yo(tmp_path)
    config = validate.validated(yaml.safe_load(yo_config(tmp_path, tiny_config, files).read_text()))
    validate.check_config(config)
    monkeypatch.chdir(tmp_path)
    config["benchmarks"]["yo-local"]["qrels"] = "src/yo-bench/qrels.txt"
    validate.check_config(config)
    monkeypatch.chdir(files["release"])
    with pytest.raises(InputError, match=r"config 'benchmarks.yo-local.qrels': 'src/yo-bench/qrels.txt' does not exist"):
        validate.check_config(config)


def test_check_pool_names_a_missing_pool_file(tmp_path):
    with pytest.raises(InputError, match="pool file does not exist"):
        data_validate.check_pool(tmp_path / "ny.jsonl", "ny", [8], cap_sizes=False)


def test_check_config_accepts_the_shipped_configs(tiny_config_path):
    for path in (ROOT / "config" / "config.yaml", ROOT / "config" / "full_study.yaml", tiny_config_path):
        validate.check_config(validate.validated(yaml.safe_load(path.read_text())))


def test_check_config_does_not_modify_the_config(tiny_config):
    config = validate.validated(tiny_config)
    before = copy.deepcopy(config)
    validate.check_config(config)
    assert config == before


def test_bundled_model_names_match_the_loader():
    from swimscale.model import BUNDLED

    assert set(validate._checks.BUNDLED_MODELS) == set(BUNDLED)


# --- models: no remote code, no pickle ----------------------------------------------------------


def _calls(tree, name):
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
            if called == name:
                yield node


def _keyword(call, name):
    for keyword in call.keywords:
        if keyword.arg == name and isinstance(keyword.value, ast.Constant):
            return keyword.value.value
    return "<absent>"


def test_models_load_without_remote_code_and_from_safetensors_only():
    """Every from_pretrained passes trust_remote_code=False, every model load use_safetensors=True;
    every torch.load is weights_only=True (only our own checkpoints are read with it); no pickle."""
    sources = sorted((ROOT / "src" / "swimscale").rglob("*.py")) + sorted((ROOT / "workflow" / "scripts").glob("*.py"))
    loads = 0
    for source in sources:
        text = source.read_text()
        tree = ast.parse(text)
        assert "trust_remote_code=True" not in text, source
        for call in _calls(tree, "from_pretrained"):
            loads += 1
            assert _keyword(call, "trust_remote_code") is False, f"{source.name}:{call.lineno}"
            target = ast.unparse(call.func)
            if "Tokenizer" not in target and "Config" not in target:  # a tokenizer or a config has no weights
                assert _keyword(call, "use_safetensors") is True, f"{source.name}:{call.lineno}"
        for call in _calls(tree, "load"):
            owner = ast.unparse(call.func)
            assert owner not in ("pickle.load", "pickle.loads", "joblib.load"), f"{source.name}:{call.lineno}"
            if owner == "torch.load":
                assert _keyword(call, "weights_only") is True, f"{source.name}:{call.lineno}"
            if owner in ("np.load", "numpy.load"):
                assert _keyword(call, "allow_pickle") in ("<absent>", False), f"{source.name}:{call.lineno}"
    assert loads >= 2  # the tokenizer and the model in swimscale.encode


def test_a_pickled_model_is_refused_by_the_loader(tmp_path):
    """A model directory with pickled weights only: the loader refuses it instead of unpickling."""
    from swimscale.model import _encode as encode

    model = Path(_pickle_only_model(tmp_path))
    bundled = Path(encode.resolve_model("bundled:all-MiniLM-L6-v2"))
    for name in ("config.json", "tokenizer.json", "tokenizer_config.json", "vocab.txt", "special_tokens_map.json"):
        if (bundled / name).exists():
            (model / name).write_bytes((bundled / name).read_bytes())
    with pytest.raises(OSError, match="safetensors"):
        encode.load_encoder(str(model))
