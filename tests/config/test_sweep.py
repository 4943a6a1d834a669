"""swimscale.config.Sweep: the points of the study that the rules' input functions read."""

import pytest

from swimscale.config import Sweep, validated
from swimscale.errors import InputError


@pytest.fixture
def two_languages(tiny_config):
    """ny (Bible, global sizes 0/32/64, a test and a dev benchmark) and yo (SWIM-IR, own sizes 0/16), and
    a third benchmark in yo's language that ny's students are evaluated on too, searching a collection
    named in the config; two methods, two seeds."""
    config = {**tiny_config, "languages": ["ny", "yo"], "seeds": [0, 1], "methods": ["optical", "contrastive"]}
    config["pools"] = {**tiny_config["pools"], "yo": {"source": "swimir_hf", "sizes": [16, 0]}}
    config["benchmarks"] = {
        **tiny_config["benchmarks"],
        "yo-local": {"source": "trec", "language": "yo", "queries": "q", "corpus": "c", "qrels": "r"},
        "yo-shared": {"source": "trec", "language": "yo", "pools": ["ny", "yo"], "queries": "q", "corpus": "c",
                      "qrels": "r", "collection": "yo-docs"},
    }
    return validated(config)


def test_benchmarks_and_sizes_per_language(two_languages):
    sweep = Sweep(two_languages)
    assert sweep.benchmarks_of("ny") == sweep.test_benchmarks_of("ny") == ["bible-ny-en", "yo-shared"]
    assert sweep.benchmarks_of("yo") == ["yo-local", "yo-shared"]
    assert sweep.dev_benchmarks_of("ny") == ["bible-ny-en-dev"] and sweep.dev_benchmarks_of("yo") == []
    assert sweep.evaluated_on("ny") == ["bible-ny-en", "bible-ny-en-dev", "yo-shared"]
    assert sweep.pool_sizes("ny") == [0, 32, 64] and sweep.pool_sizes("yo") == [0, 16]
    assert sweep.trained_sizes("yo") == [16] and sweep.trained_sizes() == [32, 64]


def test_which_prepare_rule_makes_what(two_languages):
    sweep = Sweep(two_languages)
    assert sweep.pools_prepared_by("prepare_bible") == ["ny"] and sweep.pools_prepared_by("prepare_pool") == ["yo"]
    assert sweep.benchmarks_prepared_by("prepare_bible") == ["bible-ny-en", "bible-ny-en-dev"]
    assert sweep.benchmarks_prepared_by("prepare_benchmark") == ["yo-local", "yo-shared"]
    assert sweep.collections_prepared_by("prepare_bible") == ["bible-ny-en", "bible-ny-en-dev"]
    assert sweep.collections_prepared_by("prepare_collection") == ["yo-local", "yo-docs"]


def test_collections_and_the_files_rules_ask_for(two_languages):
    sweep = Sweep(two_languages)
    assert sweep.collections() == {"bible-ny-en": ["bible-ny-en"], "bible-ny-en-dev": ["bible-ny-en-dev"],
                                   "yo-local": ["yo-local"], "yo-docs": ["yo-shared"]}
    assert sweep.collection_of("yo-shared") == "yo-docs" and sweep.collection_of("bible-ny-en-dev") == "bible-ny-en-dev"
    layout = sweep.layout  # the config's results_dir and teacher
    assert (layout.results, layout.teacher) == ("results", "minilm-l6")
    assert layout.benchmark_files("bible-ny-en-dev") == {"queries": "results/prepare/benchmarks/bible-ny-en-dev/queries.tsv",
                                                         "qrels": "results/prepare/benchmarks/bible-ny-en-dev/qrels.txt"}
    assert layout.collection_files("yo-docs") == {"corpus": "results/prepare/collections/yo-docs/corpus.jsonl"}
    assert layout.benchmark_manifest("yo-local") == "results/prepare/manifests/benchmark-yo-local.json"
    assert layout.collection_manifest("yo-docs") == "results/prepare/manifests/collection-yo-docs.json"
    assert list(sweep.members_of("yo-docs")) == ["yo-shared"]


def test_points_cover_the_sweep_and_share_the_zero_shot_run(two_languages):
    points = Sweep(two_languages).points()
    # ny: 2 test benchmarks x 2 methods x 3 sizes x 2 seeds; yo: 2 x 2 x 2 x 2. No dev benchmark is a point.
    assert len(points) == 24 + 16
    assert len({(p["language"], p["benchmark"], p["method"], p["size"], p["seed"]) for p in points}) == len(points)
    zero = [p for p in points if p["language"] == "ny" and p["benchmark"] == "yo-shared" and p["size"] == 0]
    assert {p["run_file"] for p in zero} == {"results/search/ny/zero_shot/yo-shared.trec"}  # once for all
    assert all(p["train_log"] is None for p in zero)
    (trained,) = [p for p in points if (p["language"], p["benchmark"], p["method"], p["size"], p["seed"])
                  == ("yo", "yo-local", "contrastive", 16, 1)]
    assert trained == {
        "language": "yo", "benchmark": "yo-local", "method": "contrastive", "size": 16, "seed": 1,
        "run_file": "results/search/yo/contrastive/seed1/n16/yo-local.trec",
        "qrels_file": "results/prepare/benchmarks/yo-local/qrels.txt",
        "metrics_file": "results/evaluate/yo/contrastive/seed1/n16/yo-local.json",
        "train_log": "results/train/yo/contrastive/seed1/n16/train_log.json",
        # what the rules ask for: the training job's two folders (one file per test benchmark) and log
        "outputs": ["results/search/yo/contrastive/seed1/n16", "results/evaluate/yo/contrastive/seed1/n16",
                    "results/train/yo/contrastive/seed1/n16/train_log.json"],
    }
    assert {tuple(p["outputs"]) for p in zero} == {("results/search/ny/zero_shot/yo-shared.trec",
                                                    "results/evaluate/ny/zero_shot/yo-shared.json")}


def test_partial_tables_take_what_finished_and_list_the_rest(two_languages, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    sweep = Sweep({**two_languages, "partial": True})
    with pytest.raises(InputError, match="config 'partial': no run of the sweep has finished"):
        sweep.table_points()
    done = next(p for p in sweep.points() if p["size"] == 32)
    for path in Sweep.point_files(done):
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text("x")
    assert sweep.table_points() == [done]
    missing = sweep.missing_points()
    assert len(missing) == len(sweep.points()) - 1
    assert missing[0]["missing"] == missing[0]["metrics_file"]  # the first file it lacks, in POINT_FILES order
    complete = Sweep(two_languages)  # partial: false: every point, none missing, whatever exists
    assert complete.table_points() == complete.points() and complete.missing_points() == []


@pytest.mark.parametrize("mode", ["one", "seeds", "sizes_and_seeds", "language"])
def test_student_groups_cover_every_trained_student_once(two_languages, mode):
    """students_per_job: the jobs of several students hold each trained student of the sweep exactly once,
    grouped by language with `language`, by (language, method) with sizes_and_seeds, by (language, method,
    N) with seeds; `one` has none (the wildcard rule trains each student). A job's students come seed by
    seed (then N, then method)."""
    sweep = Sweep({**two_languages, "students_per_job": mode})
    groups = sweep.student_groups()
    trained = sorted((p["language"], p["method"], p["seed"], p["size"]) for p in sweep.points() if p["size"] > 0)
    held = sorted((g["language"], method, seed, size) for g in groups for method, seed, size in g["students"])
    if mode == "one":
        assert groups == []
        return
    assert held == sorted(set(trained))  # every student once (a point per test benchmark: set)
    assert len({g["rule"] for g in groups}) == len(groups)  # rule names are unique
    keys = [(g["language"], g["method"], g["size"]) for g in groups]
    for group in groups:  # seed-major: a seed's students in a row, then N ascending, then the config's methods
        order = [(seed, size, sweep.config["methods"].index(method)) for method, seed, size in group["students"]]
        assert order == sorted(order)
    if mode == "language":
        assert keys == [("ny", None, None), ("yo", None, None)]
        assert [g["rule"] for g in groups] == ["train_ny", "train_yo"]
        assert groups[0]["students"] == [("optical", 0, 32), ("contrastive", 0, 32), ("optical", 0, 64),
                                         ("contrastive", 0, 64), ("optical", 1, 32), ("contrastive", 1, 32),
                                         ("optical", 1, 64), ("contrastive", 1, 64)]
        assert groups[1]["students"] == [("optical", 0, 16), ("contrastive", 0, 16),
                                         ("optical", 1, 16), ("contrastive", 1, 16)]
    elif mode == "sizes_and_seeds":
        assert keys == [(code, method, None) for code in ("ny", "yo") for method in ("optical", "contrastive")]
        assert groups[0]["rule"] == "train_ny_optical"
        assert groups[0]["students"] == [("optical", 0, 32), ("optical", 0, 64), ("optical", 1, 32),
                                         ("optical", 1, 64)]  # seed by seed
    else:
        assert keys == [(code, method, size) for code, sizes in (("ny", (32, 64)), ("yo", (16,)))
                        for method in ("optical", "contrastive") for size in sizes]
        assert groups[0]["rule"] == "train_ny_optical_n32"
        assert groups[0]["students"] == [("optical", 0, 32), ("optical", 1, 32)]


def test_a_language_without_a_trained_size_has_no_training_job(two_languages):
    """A language whose sizes are all 0 trains no student: no job of any mode (an empty job would be a
    rule without outputs)."""
    config = {**two_languages, "pools": {**two_languages["pools"], "yo": {**two_languages["pools"]["yo"], "sizes": [0]}}}
    for mode in ("seeds", "sizes_and_seeds", "language"):
        groups = Sweep({**config, "students_per_job": mode}).student_groups()
        assert groups and {g["language"] for g in groups} == {"ny"}, mode
