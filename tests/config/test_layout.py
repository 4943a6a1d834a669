"""swimscale.config.Layout: the one spelling of every path under results/. The paths are those the
workflow has always written (spelt out below), a wildcard pattern and the concrete values agree for
every method, the docstring's tree is the layout's, and every file a rule declares (output, log,
benchmark, and its inputs under results/) is a Layout path with the job's wildcards."""

import inspect
import re

import pytest
import yaml

from swimscale.config import Layout, Sweep, validated
from swimscale.config import _layout

# A value per wildcard name (those of workflow/rules/common.smk's wildcard_constraints).
VALUES = {"language": "ny", "benchmark": "bible-ny-en", "collection": "xtreme-up", "method": "optical_pooled",
          "seed": 2, "size": 316}


def call_patterns(obj, skip=()) -> dict[str, object]:
    """{method name: what it returns for wildcard arguments ("{language}", ...)} of obj's public methods."""
    found = {}
    for name, method in inspect.getmembers(obj, inspect.ismethod):
        if name.startswith("_") or name in skip:
            continue
        found[name] = method(*(f"{{{p}}}" for p in inspect.signature(method).parameters))
    return found


def call_values(obj, name):
    method = getattr(obj, name)
    return method(*(VALUES[p] for p in inspect.signature(method).parameters))


def flat(result) -> list[str]:
    """A path, a (runs, metrics) pair or a {role: path} dict, as a list of paths."""
    if isinstance(result, str):
        return [result]
    return list(result.values()) if isinstance(result, dict) else list(result)


def layout_patterns(layout: Layout) -> dict[str, str]:
    """{label: wildcard pattern} of every path the layout spells."""
    patterns = {}
    for owner, obj, skip in (("", layout, {"from_config", "table", "final_outputs"}),
                             ("logs.", layout.logs, ()), ("timings.", layout.timings, ())):
        for name, result in call_patterns(obj, skip).items():
            patterns.update({f"{owner}{name}[{i}]": path for i, path in enumerate(flat(result))})
    runs = layout.student_dirs("{language}", "{method}", "{seed}", "{size}")
    patterns.update({f"student {role}": path
                     for role, path in layout.evaluation_files(*runs, "{benchmark}").items()})
    patterns.update({f"table {name}": layout.table(name) for name in _layout.TABLES})
    return patterns


def as_regex(pattern: str) -> re.Pattern:
    """The files a pattern stands for: each {name} one path segment's worth (the same value where it repeats)."""
    seen, parts = set(), []
    for literal, name in re.findall(r"([^{]*)(?:\{(\w+)\})?", pattern):
        parts.append(re.escape(literal))
        if name:
            parts.append(f"(?P={name})" if name in seen else f"(?P<{name}>[^/]+)")
            seen.add(name)
    return re.compile("".join(parts))


def test_the_paths_are_the_workflows():
    """Every path of one study point, spelt out: what results/ has always held (byte for byte)."""
    layout = Layout("results", "minilm-l6")
    student = ("ny", "optical", 0, 32)
    assert layout.pool("ny") == "results/prepare/pools/ny.jsonl"
    assert layout.pool_manifest("ny") == "results/prepare/manifests/pool-ny.json"
    assert layout.benchmark_files("b") == {"queries": "results/prepare/benchmarks/b/queries.tsv",
                                           "qrels": "results/prepare/benchmarks/b/qrels.txt"}
    assert layout.benchmark_manifest("b") == "results/prepare/manifests/benchmark-b.json"
    assert layout.collection_files("c") == {"corpus": "results/prepare/collections/c/corpus.jsonl"}
    assert layout.collection_manifest("c") == "results/prepare/manifests/collection-c.json"
    assert layout.validated_pool("ny") == "results/validate/ny/pool.jsonl"
    assert layout.validation_report("ny") == "results/validate/ny/report.json"
    assert layout.screened("ny") == "results/validate/ny/screened.json"
    assert layout.sample("ny", 0, 32) == "results/subsample/ny/seed0/n32.jsonl"
    assert layout.query_states("b") == "results/query_states/minilm-l6/b.safetensors"
    assert layout.teacher_states("ny") == "results/teacher_states/minilm-l6/ny.safetensors"
    assert layout.encoding("c") == {"embeddings": "results/encode/minilm-l6/c/corpus.npy",
                                    "docids": "results/encode/minilm-l6/c/docids.txt"}
    assert layout.index("c") == "results/index/minilm-l6/c/flat_ip.faiss"
    assert layout.student(*student) == "results/train/ny/optical/seed0/n32/student.safetensors"
    assert layout.train_log(*student) == "results/train/ny/optical/seed0/n32/train_log.json"
    assert layout.checkpoint(*student) == "results/train/ny/optical/seed0/n32/checkpoint.pt"
    assert layout.finished(*student) == "results/train/ny/optical/seed0/n32/finished"
    assert layout.student_dirs(*student) == ("results/search/ny/optical/seed0/n32",
                                             "results/evaluate/ny/optical/seed0/n32")
    assert layout.evaluation_files(*layout.student_dirs(*student), "b") == {
        "run": "results/search/ny/optical/seed0/n32/b.trec", "metrics": "results/evaluate/ny/optical/seed0/n32/b.json",
        "searched": "results/search/ny/optical/seed0/n32/b.searched.json",
        "per_query": "results/evaluate/ny/optical/seed0/n32/b.per_query.tsv"}
    assert layout.zero_shot_files("ny", "b") == {"run": "results/search/ny/zero_shot/b.trec",
                                                 "searched": "results/search/ny/zero_shot/b.searched.json",
                                                 "metrics": "results/evaluate/ny/zero_shot/b.json",
                                                 "per_query": "results/evaluate/ny/zero_shot/b.per_query.tsv"}
    assert layout.final_outputs() == ["results/tables/recall.tsv", "results/tables/correlation.tsv",
                                      "results/plots/recall_vs_n.png", "results/tables/missing.tsv"]
    assert layout.table("summary") == "results/summary.md"


def test_logs_and_timings_name_each_job_alike():
    layout = Layout("out", "mdpr")
    jobs = {
        "prepare_bible": (("ny",), "prepare/bible-ny"),
        "prepare_pool": (("yo",), "prepare/pool-yo"),
        "prepare_collection": (("c",), "prepare/collection-c"),
        "prepare_benchmark": (("b",), "prepare/benchmark-b"),
        "validate": (("ny",), "validate/ny"),
        "subsample": (("ny", 1, 8), "subsample/ny/seed1/n8"),
        "query_states": (("b",), "query_states/mdpr/b"),
        "teacher_states": (("ny",), "teacher_states/mdpr/ny"),
        "encode_corpus": (("c",), "encode/mdpr/c"),
        "index": (("c",), "index/mdpr/c"),
        "train": (("ny", "pooled", 1, 8), "train/ny/pooled/seed1/n8"),
        "train_students": (("ny", "pooled", 8), "train/ny/pooled/students_n8"),
        "search_zero_shot": (("ny", "b"), "search/ny/zero_shot/b"),
        "evaluate": (("ny", "pooled", 1, 8), "evaluate/ny/pooled/seed1/n8"),
        "evaluate_zero_shot": (("ny", "b"), "evaluate/ny/zero_shot/b"),
        "correlate": ((), "correlate/correlate"),
        "missing_runs": ((), "correlate/missing_runs"),
        "moderator_values": ((), "correlate/moderator_values"),
    }
    assert set(jobs) == set(call_patterns(layout.logs))  # one method per rule, each checked here
    for rule, (args, job) in jobs.items():
        assert getattr(layout.logs, rule)(*args) == f"out/logs/{job}.log"
        assert getattr(layout.timings, rule)(*args) == f"out/timings/{job}.tsv"
    # A job of every N and seed of a (language, method) (students_per_job: sizes_and_seeds).
    assert layout.logs.train_students("ny", "pooled") == "out/logs/train/ny/pooled/students.log"
    # A job of every method, N and seed of a language (students_per_job: language), beside its methods' folders.
    assert layout.logs.train_students("ny") == "out/logs/train/ny/students.log"
    assert layout.timings.train_students("ny") == "out/timings/train/ny/students.tsv"


def test_patterns_and_concrete_values_agree():
    """A method given the wildcards, then formatted with the values, is the method given the values; and
    the pattern's regex reads the values back out of the concrete path."""
    layout = Layout("res/study", "minilm-l6")
    checked = 0
    for obj, skip in ((layout, {"from_config", "table", "final_outputs"}), (layout.logs, ()), (layout.timings, ())):
        for name, pattern in call_patterns(obj, skip).items():
            concrete = call_values(obj, name)
            for wild, path in zip(flat(pattern), flat(concrete), strict=True):
                assert wild.format(**VALUES) == path, name
                match = as_regex(wild).fullmatch(path)
                assert match and {k: str(VALUES[k]) for k in match.groupdict()} == match.groupdict(), name
                assert "{" not in path and path.startswith("res/study/")
                checked += 1
    assert checked >= 40


def test_the_docstring_tree_is_the_layout():
    """The tree in the module's docstring (brace alternatives expanded) is the layout: every path of it is
    a Layout pattern, and every pattern is in it (the student's two folders through the files in them,
    logs/ and timings/ as <stage>/<job>)."""
    lines = _layout.__doc__.split("::\n\n", 1)[1].splitlines()
    tree = lines[:next(i for i, line in enumerate(lines) if line and not line.startswith("    "))]
    documented = {path for line in tree[1:] if line.strip() for path in expand("<results>/" + line.split()[0])}
    layout = Layout("<results>", "<teacher>")
    patterns = {re.sub(r"\{(\w+)\}", r"<\1>", p) for p in layout_patterns(layout).values()}
    folders = {*layout.student_dirs("<language>", "<method>", "<seed>", "<size>"), *layout.zero_shot_dirs("<language>")}
    jobs = {p for p in patterns if p.split("/")[1] in ("logs", "timings")}
    assert documented - {"<results>/logs/<stage>/<job>.log", "<results>/timings/<stage>/<job>.tsv"} == (
        patterns - folders - jobs)
    assert len(documented) > 40


def expand(path: str) -> list[str]:
    """Shell-like brace expansion: "a/{b,c}.x" -> ["a/b.x", "a/c.x"]."""
    match = re.search(r"\{([^{}]*,[^{}]*)\}", path)
    if not match:
        return [path]
    return [p for alt in match.group(1).split(",")
            for p in expand(path[:match.start()] + alt + path[match.end():])]


def test_tables_are_the_analysis_outputs():
    """The correlate rule's outputs (named as the analysis names them) are where the analysis writes them."""
    from swimscale.analysis import OUTPUTS

    layout = Layout("results", "t")
    assert {name: layout.table(name) for name in OUTPUTS} == {name: f"results/{rel}" for name, rel in OUTPUTS.items()}
    assert set(_layout.TABLES) == {*OUTPUTS, "missing", "moderator_values"}  # + the two tables of other rules


def test_from_config_and_the_sweep_use_the_configs_folder_and_teacher(tiny_config):
    config = validated({**tiny_config, "results_dir": "out/run1"})
    layout = Layout.from_config(config)
    assert (layout.results, layout.teacher) == ("out/run1", "minilm-l6")
    sweep = Sweep(config)
    assert all(path.startswith("out/run1/") for point in sweep.points() for path in point["outputs"])
    trained = next(p for p in sweep.points() if p["size"] == 32)
    assert trained["train_log"] == layout.train_log("ny", trained["method"], trained["seed"], 32)
    assert trained["run_file"] == layout.evaluation_files(
        *layout.student_dirs("ny", trained["method"], trained["seed"], 32), "bible-ny-en")["run"]


# --- every file the rules declare is a Layout path ---------------------------------------------------

def every_rule_study(tmp_path, tiny_config):
    """The tiny config plus a SWIM-IR pool (prepare_pool) and a TREC benchmark searching a named collection
    (prepare_collection, prepare_benchmark): a dry run has a job of every rule."""
    src = tmp_path / "bench"
    src.mkdir()
    (src / "queries.tsv").write_text("q1\tibeere\n")
    (src / "corpus.jsonl").write_text('{"docid": "d1", "title": "", "text": "x"}\n')
    (src / "qrels.txt").write_text("q1 0 d1 1\n")
    config = {**tiny_config, "languages": ["ny", "yo"], "results_dir": "out/study"}
    config["pools"] = {**tiny_config["pools"], "yo": {"source": "swimir_hf", "sizes": [0, 8]}}
    dev = {**tiny_config["benchmarks"]["bible-ny-en-dev"], "pools": ["ny", "yo"]}  # yo's students choose on it
    config["benchmarks"] = {**tiny_config["benchmarks"], "bible-ny-en-dev": dev,
                            "yo-trec": {"source": "trec", "language": "yo", "pools": ["ny", "yo"],
                                        "queries": str(src / "queries.tsv"), "corpus": str(src / "corpus.jsonl"),
                                        "qrels": str(src / "qrels.txt"), "collection": "yo-docs"}}
    path = tmp_path / "study.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def dry_run_jobs(output: str) -> list[dict]:
    """The jobs of `snakemake -n`'s output: {rule, wildcards, files: {field: [paths]}}."""
    jobs = []
    for rule, body in re.findall(r"^(?:local)?rule (\w+):\n((?:    .*\n)+)", output, re.M):
        fields = dict(re.findall(r"^    (\w+): (.*)$", body, re.M))
        wildcards = dict(w.split("=", 1) for w in fields["wildcards"].split(", ")) if "wildcards" in fields else {}
        files = {key: fields[key].split(", ") for key in ("input", "output", "log", "benchmark") if key in fields}
        jobs.append({"rule": rule, "wildcards": wildcards, "files": files})
    return jobs


def test_every_file_a_rule_declares_is_a_layout_path(tmp_path, tiny_config, snakemake):
    result = snakemake(tmp_path, "-n", config=every_rule_study(tmp_path, tiny_config), cores=1,
                       env={"HF_HUB_OFFLINE": "0", "HF_DATASETS_OFFLINE": "1"}, timeout=300)
    assert result.returncode == 0, result.output[-3000:]
    regexes = [as_regex(p) for p in layout_patterns(Layout("out/study", "minilm-l6")).values()]
    jobs = dry_run_jobs(result.stdout)
    assert {job["rule"] for job in jobs} == {
        "prepare_bible", "prepare_pool", "prepare_collection", "prepare_benchmark", "validate", "subsample",
        "query_states", "encode_corpus", "index", "train", "search_zero_shot", "evaluate", "evaluate_zero_shot",
        "correlate", "missing_runs", "moderator_values", "all"}
    checked = 0
    for job in jobs:
        for field, paths in job["files"].items():
            for path in paths:
                if field == "input" and not path.startswith("out/study/"):
                    continue  # the user's files (sources, the tiers table)
                matches = [m.groupdict() for r in regexes if (m := r.fullmatch(path))]
                # A Layout path, read with values that agree with the job's wildcards.
                assert any(all(job["wildcards"].get(k, v) == v for k, v in m.items()) for m in matches), (
                    job["rule"], field, path)
                checked += 1
    assert checked > 100
