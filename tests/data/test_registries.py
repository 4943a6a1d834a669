"""The source registries (swimscale.data.POOL_SOURCES, swimscale.data.benchmarks.SOURCES) agree with
the config schema and the rules, and each source's config-time check stops a bad entry, naming the key,
through the one check_config (swimscale.config)."""

import copy
import re
from pathlib import Path

import pytest

from swimscale.config import check_config, load_schema, validated
from swimscale.data import POOL_SOURCES
from swimscale.data.benchmarks import SOURCES as BENCHMARK_SOURCES
from swimscale.errors import InputError

ROOT = Path(__file__).resolve().parents[2]
REGISTRIES = {"pools": POOL_SOURCES, "benchmarks": BENCHMARK_SOURCES}


def entry_schema(section):
    return load_schema()["properties"][section]["additionalProperties"]


@pytest.mark.parametrize("section", sorted(REGISTRIES))
def test_registry_names_are_the_schema_enum(section):
    assert list(REGISTRIES[section]) == entry_schema(section)["properties"]["source"]["enum"]


@pytest.mark.parametrize("section", sorted(REGISTRIES))
def test_keys_a_source_requires_or_reads_as_files_are_in_the_schema(section):
    properties = entry_schema(section)["properties"]
    for source in REGISTRIES[section].values():
        for key in [*source.required, *source.input_files]:
            assert key in properties, f"{section} source {source.name}: key {key!r} is not in the schema"
            assert "default" not in properties[key], f"{section}.{key} has a default, so it cannot be missing"


def test_every_source_is_prepared_by_a_rule_that_exists():
    rules = set(re.findall(r"^rule (\w+):", (ROOT / "workflow/rules/prepare.smk").read_text(), flags=re.M))
    for registry in REGISTRIES.values():
        for source in registry.values():
            assert source.rule in rules, source
    # prepare_pool, prepare_collection and prepare_benchmark dispatch through the registries: their
    # sources need the functions those rules call.
    for source in POOL_SOURCES.values():
        assert (source.prepare is not None) == (source.rule == "prepare_pool"), source
    for source in BENCHMARK_SOURCES.values():
        assert source.prepare is None
        assert (source.read is not None and source.documents is not None) == (source.rule == "prepare_benchmark"), source
    assert {"prepare_collection", "prepare_benchmark", "prepare_bible", "prepare_pool"} <= rules


# --- each source's config-time check, through check_config ------------------------------------------


def study(tmp_path):
    """A validated config with one language per pool source and one benchmark per benchmark source."""
    release = tmp_path / "swim_ir_v1" / "cross_lingual" / "yo"
    release.mkdir(parents=True)
    (release / "train.jsonl").write_text('{"_id": "1"}\n')
    trec = {key: tmp_path / f"{key}.txt" for key in ("queries", "corpus", "qrels")}
    trec_dev = {key: tmp_path / f"dev-{key}.txt" for key in ("queries", "corpus", "qrels")}
    for path in [*trec.values(), *trec_dev.values()]:
        path.write_text("x\n")
    config = {
        "languages": ["ny", "sw", "yo", "bn"],
        "sizes": [0, 8],
        "seeds": [0],
        "teacher": {"name": "t", "model": "bundled:all-MiniLM-L6-v2"},
        "pools": {
            "ny": {"source": "bible", "language_name": "Chichewa"},
            "sw": {"source": "swimir_hf"},
            "yo": {"source": "swimir_local", "path": str(tmp_path / "swim_ir_v1")},
            "bn": {"source": "swimir_hf"},
        },
        "benchmarks": {
            "bible-ny-en": {"source": "bible", "language": "ny"},
            "bible-ny-en-dev": {"source": "bible", "language": "ny", "role": "dev"},
            "xtreme-up-bn": {"source": "xtreme_up", "language": "bn"},
            "xtreme-up-bn-dev": {"source": "xtreme_up", "language": "bn", "split": "validation", "role": "dev"},
            "clirmatrix-sw": {"source": "ir_datasets", "language": "sw", "id": "clirmatrix/en/bi139-base/sw/test1"},
            "clirmatrix-sw-dev": {"source": "ir_datasets", "language": "sw", "id": "clirmatrix/en/bi139-base/sw/dev",
                                  "role": "dev"},
            "local-yo": {"source": "trec", "language": "yo", **{k: str(p) for k, p in trec.items()}},
            "local-yo-dev": {"source": "trec", "language": "yo", "role": "dev", **{k: str(p) for k, p in trec_dev.items()}},
        },
    }
    return validated(config)


def test_the_study_with_every_source_passes(tmp_path):
    config = study(tmp_path)
    before = copy.deepcopy(config)
    check_config(config)
    assert config == before


def _set(section, name, key, value):
    def change(config):
        config[section][name][key] = value

    return change


def _set_bible(key, value):
    def change(config):
        config["bible"][key] = value

    return change


def _drop(section, name, key):
    def change(config):
        del config[section][name][key]

    return change


def _rename_benchmark(config):
    config["benchmarks"]["ny-bible"] = config["benchmarks"].pop("bible-ny-en")


def _move_bible_pool(config):
    config["pools"]["sw"] = {**config["pools"]["ny"]}


def _other_documents_in_collection(config):
    config["benchmarks"]["clirmatrix-sw-dev"].update(id="clirmatrix/de/bi139-base/sw/dev", collection="clirmatrix-en")


def _bible_benchmark_for(code):
    def change(config):
        config["benchmarks"][f"bible-{code}-en"] = {**config["benchmarks"]["bible-ny-en"], "language": code}

    return change


def _add_language_without_benchmark(config):
    config["languages"].append("fi")
    config["pools"]["fi"] = {**config["pools"]["sw"]}


CASES = {
    # pool sources
    "bible_pool_not_chichewa": (_move_bible_pool, "config 'pools.sw': the bundled Bible pairs are Chichewa only"),
    "bible_pool_without_language_name": (_drop("pools", "ny", "language_name"),
                                         "config 'pools.ny.language_name': required for source bible"),
    "swimir_local_without_path": (_drop("pools", "yo", "path"),
                                  "config 'pools.yo.path': required for source swimir_local (the extracted"),
    "swimir_local_language_missing_from_release": (_set("pools", "yo", "section", "cross_lingual_ext"),
                                                   "config 'pools.yo.path': SWIM-IR pool 'yo': no file"),
    "swimir_hf_snapshot_missing": (_set("pools", "bn", "dataset", "./data/swimir/swim-ir-crosslingual"),
                                   "config 'pools.bn.dataset': snapshot folder './data/swimir/swim-ir-crosslingual' "
                                   "does not exist"),
    "swimir_hf_language_not_in_dataset": (_set("pools", "bn", "dataset", "nthakur/indic-swim-ir-cross-lingual"),
                                          "config 'pools.bn': nthakur/indic-swim-ir-cross-lingual has no language 'bn'"),
    # benchmark sources
    "bible_benchmark_misnamed": (_rename_benchmark, "config 'benchmarks.ny-bible': a bible benchmark of role test must be named bible-ny-en"),
    "xtreme_up_language_not_in_task": (_set("benchmarks", "xtreme-up-bn", "language", "sw"),
                                       "config 'benchmarks.xtreme-up-bn.language': XTREME-UP's cross-language retrieval has no 'sw'"),
    "ir_datasets_without_id": (_drop("benchmarks", "clirmatrix-sw", "id"),
                               "config 'benchmarks.clirmatrix-sw.id': required for source ir_datasets"),
    "trec_without_qrels": (_drop("benchmarks", "local-yo", "qrels"),
                           "config 'benchmarks.local-yo.qrels': required for source trec"),
    "trec_file_missing": (_set("benchmarks", "local-yo", "corpus", "/nonexistent/corpus.jsonl"),
                          "config 'benchmarks.local-yo.corpus': '/nonexistent/corpus.jsonl' does not exist"),
    # keys naming other entries
    "benchmark_language_unknown": (_set("benchmarks", "xtreme-up-bn", "language", "hi"),
                                   "config 'benchmarks.xtreme-up-bn.language': unknown language 'hi'"),
    "benchmark_pools_unknown": (_set("benchmarks", "local-yo", "pools", ["yo", "zu"]),
                                "config 'benchmarks.local-yo.pools': unknown language 'zu'"),
    "language_without_benchmark": (_add_language_without_benchmark, "config 'benchmarks': no benchmark has language 'fi'"),
    # roles
    "bible_dev_benchmark_misnamed": (_set("benchmarks", "bible-ny-en", "role", "dev"),
                                     "config 'benchmarks.bible-ny-en': a bible benchmark of role dev must be named "
                                     "bible-ny-en-dev"),
    "language_with_dev_benchmarks_only": (_set("benchmarks", "local-yo", "role", "dev"),
                                          "config 'benchmarks': language 'yo' has no benchmark of role test"),
    "two_dev_benchmarks": (_set("benchmarks", "clirmatrix-sw-dev", "pools", ["sw", "bn"]),
                           "config 'benchmarks': language 'bn' has 2 dev benchmarks (xtreme-up-bn-dev, clirmatrix-sw-dev)"),
    # collections
    "collection_members_disagree": (_set("benchmarks", "clirmatrix-sw-dev", "corpus_size", 1000),
                                    "config 'benchmarks.clirmatrix-sw-dev.corpus_size': 1000, but benchmark "
                                    "'clirmatrix-sw' of the same collection 'clirmatrix-en' has None"),
    "collection_with_other_documents": (_other_documents_in_collection,
                                        "config 'benchmarks.clirmatrix-sw-dev.id (its documents)': 'clirmatrix/de', but "
                                        "benchmark 'clirmatrix-sw' of the same collection 'clirmatrix-en' has 'clirmatrix/en'"),
    "collection_name_escapes": (_set("benchmarks", "local-yo", "collection", "../c"),
                                "config 'benchmarks.local-yo.collection': '../c' is not a valid name"),
    "bible_collection_set": (_set("benchmarks", "bible-ny-en", "collection", "other"),
                             "config 'benchmarks.bible-ny-en.collection': a bible benchmark searches its own collection"),
    # the Bible section, at DAG time
    "bible_dev_books_none": (_set_bible("dev_book_every", 10),
                             "config 'bible.dev_book_every': 10 leaves no dev book beside the test books"),
    "bible_corpus_below_queries": (_set_bible("dev_corpus_size", 10),
                                   "config 'bible.dev_corpus_size': 10 is below bible.n_dev_queries = 500"),
    "bible_benchmark_without_bible_pool": (_bible_benchmark_for("yo"),
                                           "config 'benchmarks.bible-yo-en': a bible benchmark needs pools.yo.source: bible"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_bad_entry_stops_with_its_key(case, tmp_path):
    change, message = CASES[case]
    config = study(tmp_path)
    change(config)
    with pytest.raises(InputError) as err:
        check_config(config)
    assert str(err.value).startswith(message), str(err.value)


def test_a_benchmark_shared_through_pools_gives_its_languages_a_benchmark(tmp_path):
    config = study(tmp_path)
    _add_language_without_benchmark(config)
    config["benchmarks"]["clirmatrix-sw"]["pools"] = ["sw", "fi"]
    config["benchmarks"]["clirmatrix-sw-dev"]["pools"] = ["sw", "fi"]  # and its dev split chooses their students
    check_config(config)
