"""What README.md and config/README.md say about the default config is what config/config.yaml and
the schema say: every key = value row of their tables, every number their sentences state about the
budget (dev checks, patience, the cap, the test queries), the methods, the time target; and the README
stays a front door (at most 150 lines), its links and the docs' links reach existing files and
headings, and no doc cites a path outside the repository.

The expected values are read from config/config.yaml with the schema's defaults filled in
(`swimscale.config.validated`) and from the schema itself, never restated here: change a number in
config.yaml, or in a README, and these tests name the row or sentence that no longer agrees.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from swimscale.config import load_schema, validated

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
CONFIG_README = ROOT / "config" / "README.md"
CONFIG_FILE = ROOT / "config" / "config.yaml"
DOCS = sorted((ROOT / "docs").glob("*.md"))
MAX_README_LINES = 150

#: The rows README.md's table "The default config" must have (so a drift cannot hide by a deleted row).
README_KEYS = {"languages", "sizes", "seeds", "methods", "bible.n_queries", "bible.n_dev_queries",
               "train.budget", "train.eval_every_passes", "train.min_passes", "train.patience", "train.max_steps"}
WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6}
MISSING = object()


def config() -> dict[str, Any]:
    return validated(yaml.safe_load(CONFIG_FILE.read_text(encoding="utf-8")))


# ---- reading the Markdown -------------------------------------------------------------------------


def tables(text: str) -> Iterator[tuple[int, dict[str, str]]]:
    """(line number, {header: cell}) for every body row of every Markdown table of `text`."""
    header: list[str] | None = None
    for number, line in enumerate(text.splitlines(), 1):
        if not line.startswith("|"):
            header = None
            continue
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if header is None:
            header = cells
        elif not all(set(cell) <= set("-: ") for cell in cells):
            yield number, dict(zip(header, cells))


def key_rows(text: str, column: str) -> list[tuple[int, str, str]]:
    """(line, dotted key, cell of `column`) of the table rows whose first column is `key`."""
    return [(number, row["key"].strip("`"), row[column]) for number, row in tables(text)
            if "key" in row and column in row and row["key"].startswith("`")]


def cell_value(cell: str) -> Any:
    """The value a table cell states: its first `code` span (else its text up to a parenthesis), read as
    YAML; `(required)` and `(none)` stand for themselves; an empty cell is None."""
    cell = cell.strip()
    if cell in ("(required)", "(none)"):
        return cell
    code = re.match(r"`([^`]*)`", cell)
    raw = code.group(1) if code else cell.split(" (")[0].strip()
    try:
        return yaml.safe_load(raw)
    except yaml.YAMLError:
        return raw  # e.g. "{title} {text}": a string that is not YAML


# ---- the config and the schema ----------------------------------------------------------------------


def config_values(cfg: dict[str, Any], key: str) -> list[Any]:
    """The config's value(s) of a dotted key; `<code>`/`<name>` stand for every entry of that mapping."""
    values: list[Any] = [cfg]
    for part in key.split("."):
        if part.startswith("<"):
            values = [entry for value in values for entry in value.values()]
        else:
            values = [value.get(part, MISSING) for value in values]
    return values


def schema_entry(key: str) -> tuple[dict[str, Any], bool]:
    """(the schema of a dotted key, whether it is required where it sits)."""
    spec: dict[str, Any] = load_schema()
    required = False
    for part in key.split("."):
        if part.startswith("<"):
            spec = spec["additionalProperties"]
            continue
        required = part in spec.get("required", [])
        spec = spec["properties"][part]
    return spec, required


def same(stated: Any, actual: Any) -> bool:
    if isinstance(stated, float) or isinstance(actual, float):
        return isinstance(stated, (int, float)) and isinstance(actual, (int, float)) and float(stated) == float(actual)
    return stated == actual


# ---- README.md: the default config ------------------------------------------------------------------


def test_readme_table_of_the_default_config_is_config_yaml():
    rows = key_rows(README.read_text(encoding="utf-8"), "value")
    lacking = README_KEYS - {key for _, key, _ in rows}
    assert not lacking, f"README.md's default-config table lacks {sorted(lacking)}"
    cfg = config()
    wrong = [f"README.md:{line}: {key} = {cell!r}, config/config.yaml: {config_values(cfg, key)}"
             for line, key, cell in rows if not all(same(cell_value(cell), v) for v in config_values(cfg, key))]
    assert not wrong, "\n".join(wrong)


def stated(text: str, pattern: str) -> list[tuple[int, int]]:
    """(line, number) of every match of `pattern` (its group 1: digits with thousands commas, or a word);
    a line break counts as a space."""
    found = []
    for match in re.finditer(pattern, text.replace("\n", " ")):
        word = match.group(1).replace(",", "")
        found.append((text.count("\n", 0, match.start()) + 1, WORDS[word] if word in WORDS else int(word)))
    return found


def sentence_claims(cfg: dict[str, Any]) -> list[tuple[str, int, bool]]:
    """(pattern, the config's value, whether README.md must state it) for the numbers its sentences give."""
    methods = len(load_schema()["properties"]["methods"]["items"]["enum"])
    return [
        (r"checked every (\d+) pass", cfg["train"]["eval_every_passes"], True),
        (r"new best for (\w+) checks in a row", cfg["train"]["patience"], True),
        (r"cap of (\d[\d,]*) updates", cfg["train"]["max_steps"], True),
        (r"(\d[\d,]*) test queries", cfg["bible"]["n_queries"], True),
        (r"(\d[\d,]*) dev queries", cfg["bible"]["n_dev_queries"], False),
        (r"and (\w+) other arms", methods - 1, True),
        (r"all (\w+) arms", methods, False),
    ]


@pytest.mark.parametrize("path", [README, CONFIG_README], ids=["README.md", "config/README.md"])
def test_sentences_state_the_default_configs_numbers(path):
    text = path.read_text(encoding="utf-8")
    wrong, absent = [], []
    for pattern, expected, required in sentence_claims(config()):
        found = stated(text, pattern)
        if required and path == README and not found:
            absent.append(pattern)
        wrong += [f"{path.relative_to(ROOT)}:{line}: /{pattern}/ states {number}, the config {expected}"
                  for line, number in found if number != expected]
    assert not absent, f"README.md no longer states: {absent}"
    assert not wrong, "\n".join(wrong)


def test_readme_says_only_the_top_layer_trains_when_one_layer_trains():
    text = README.read_text(encoding="utf-8")
    assert "top layer trains" in text
    assert config()["train"]["trainable_layers"] == 1


def time_target(text: str) -> list[int]:
    return [int(m) for m in re.findall(r"(\d+)[ -]minutes?\b", text)]


def test_the_time_target_is_the_one_config_yaml_states():
    """config/config.yaml's comment gives the demo's budget, "(2 cores, 15 minutes)"; both READMEs say
    the same number of minutes wherever they state one."""
    budget = re.search(r"\(2 cores, (\d+) minutes\)", CONFIG_FILE.read_text(encoding="utf-8"))
    assert budget, "config/config.yaml no longer states the demo's time budget"
    for path in (README, CONFIG_README):
        minutes = time_target(path.read_text(encoding="utf-8"))
        name = path.relative_to(ROOT)
        assert minutes, f"{name} states no time target"
        assert set(minutes) == {int(budget.group(1))}, f"{name} states {minutes} minutes"


# ---- config/README.md: defaults and the config's values ---------------------------------------------


def test_config_readme_defaults_are_the_schemas():
    rows = key_rows(CONFIG_README.read_text(encoding="utf-8"), "default")
    assert len(rows) > 50, "config/README.md's key tables are gone"
    wrong = []
    for line, key, cell in rows:
        spec, required = schema_entry(key)
        value = cell_value(cell)
        if value == "(required)":
            ok = required and "default" not in spec
        elif value == "(none)":
            ok = not required and "default" not in spec
        else:
            ok = "default" in spec and same(value, spec["default"])
        if not ok:
            wrong.append(f"config/README.md:{line}: {key} default {cell!r}, schema {spec.get('default', 'none')}"
                         f"{' (required)' if required else ''}")
    assert not wrong, "\n".join(wrong)


def test_config_readme_covers_every_key_of_the_schema():
    """Every key of the schema has a row (nested entries as `pools.<code>.…`, `benchmarks.<name>.…`),
    but the source-specific file keys named in the text (`path`, `id`, `queries`, `corpus`, `qrels`)."""
    named = {key for _, key, _ in key_rows(CONFIG_README.read_text(encoding="utf-8"), "default")}
    schema = load_schema()["properties"]
    expected = set()
    for key, spec in schema.items():
        if "properties" in spec:
            expected |= {f"{key}.{sub}" for sub in spec["properties"]}
        elif isinstance(spec.get("additionalProperties"), dict):
            entry = "<code>" if key == "pools" else "<name>"
            expected |= {f"{key}.{entry}.{sub}" for sub in spec["additionalProperties"]["properties"]}
        else:
            expected.add(key)
    in_text = {"benchmarks.<name>.path", "benchmarks.<name>.id", "benchmarks.<name>.queries",
               "benchmarks.<name>.corpus", "benchmarks.<name>.qrels"}
    assert expected - in_text <= named, f"config/README.md has no row for {sorted(expected - in_text - named)}"
    assert named <= expected, f"config/README.md names keys the schema lacks: {sorted(named - expected)}"


def test_config_readme_values_of_config_yaml():
    """The `config.yaml` column: the file's value where it states one; empty where the file leaves the
    schema's default in force."""
    cfg = config()
    wrong = []
    for number, row in tables(CONFIG_README.read_text(encoding="utf-8")):
        if "config.yaml" not in row:
            continue
        key, cell = row["key"].strip("`"), row["config.yaml"]
        spec, _ = schema_entry(key)
        expected = cell_value(cell) if cell else spec.get("default", MISSING)
        actual = config_values(cfg, key)
        if not all(same(expected, value) for value in actual):
            wrong.append(f"config/README.md:{number}: {key} config.yaml {cell or '(default)'!r}, the file: {actual}")
    assert not wrong, "\n".join(wrong)


def test_config_readme_lists_every_method():
    row = next(row for _, row in tables(CONFIG_README.read_text(encoding="utf-8")) if row.get("key") == "`methods`")
    named = set(re.findall(r"`(\w+)`", row["meaning"]))
    assert named == set(load_schema()["properties"]["methods"]["items"]["enum"])


# ---- the README as a front door, the docs' links ----------------------------------------------------


def test_readme_has_at_most_150_lines():
    lines = README.read_text(encoding="utf-8").count("\n")
    assert lines <= MAX_README_LINES, f"README.md has {lines} lines; detail belongs in docs/"


def slug(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation other than - and _ dropped, spaces as -."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def anchors(path: Path) -> set[str]:
    return {slug(line.lstrip("#")) for line in path.read_text(encoding="utf-8").splitlines()
            if re.match(r"#{1,6} ", line)}


@pytest.mark.parametrize("path", [README, CONFIG_README, *DOCS], ids=lambda p: str(p.relative_to(ROOT)))
def test_links_reach_files_and_headings(path):
    broken = []
    for target in re.findall(r"\]\(([^)\s]+)\)", path.read_text(encoding="utf-8")):
        if re.match(r"[a-z]+:", target):
            continue  # https:, mailto:
        file, _, anchor = target.partition("#")
        linked = (path.parent / file).resolve() if file else path
        if not linked.exists():
            broken.append(target)
        elif anchor and linked.suffix == ".md" and anchor not in anchors(linked):
            broken.append(target)
    assert not broken, f"{path.relative_to(ROOT)}: broken links {broken}"


# Paths of the developers' machines that a user's clone lacks (spelt in two pieces, so that a search of
# the repository for them finds none, this test included).
OUTSIDE = ("/" + "work/", "shared" + "/notes")


@pytest.mark.parametrize("path", [README, CONFIG_README, *DOCS, *sorted((ROOT / "config").glob("*.tsv"))],
                         ids=lambda p: str(p.relative_to(ROOT)))
def test_docs_cite_no_path_outside_the_repository(path):
    text = path.read_text(encoding="utf-8")
    assert not [piece for piece in OUTSIDE if piece in text]
