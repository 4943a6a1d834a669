"""The mutation run's scope (mutation/modules.toml): every module under ``analysis/`` is either under
mutation testing (``[modules]``) or named in ``[not_numerical]`` with the reason it computes no number
a user reads. A new module is covered or this test fails; so does an entry naming a module or a test
file that does not exist."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "swimscale"
SPEC = ROOT / "mutation" / "modules.toml"
SCOPED = ("analysis",)  # the subpackages whose every module must be classified


def _spec() -> dict:
    return tomllib.loads(SPEC.read_text())


def _modules_under(folder: str) -> set[str]:
    return {path.relative_to(PACKAGE).as_posix() for path in (PACKAGE / folder).rglob("*.py")}


def unclassified(spec: dict) -> list[str]:
    """The modules under the scoped subpackages in neither table of ``spec``."""
    classified = set(spec["modules"]) | set(spec.get("not_numerical", {}))
    return sorted(m for folder in SCOPED for m in _modules_under(folder) if m not in classified)


def missing_paths(spec: dict) -> list[str]:
    """The entries of either table, and the test files of ``[modules]``, that name no file."""
    named = [*spec["modules"], *spec.get("not_numerical", {})]
    gone = [f"src/swimscale/{m}" for m in named if not (PACKAGE / m).is_file()]
    tests = {test.partition("::")[0] for tests in spec["modules"].values() for test in tests}
    return gone + [f"tests/{t}" for t in sorted(tests) if not (ROOT / "tests" / t).is_file()]


def test_every_analysis_module_is_under_mutation_or_named_not_numerical() -> None:
    assert unclassified(_spec()) == []


def test_every_entry_names_an_existing_module_and_tests() -> None:
    assert missing_paths(_spec()) == []


def test_a_module_in_both_tables_or_without_a_reason_is_refused() -> None:
    spec = _spec()
    assert not set(spec["modules"]) & set(spec["not_numerical"])
    assert all(isinstance(reason, str) and reason.strip() for reason in spec["not_numerical"].values())


def test_the_numerical_modules_of_issue_30_are_listed() -> None:
    listed = set(_spec()["modules"])
    for module in ("_correlation", "_curves", "_tier_slopes", "_cluster", "_groups", "_statistics"):
        assert f"analysis/{module}.py" in listed


def test_the_check_sees_a_removed_line() -> None:
    """Dropping any one module from the spec, or naming a module that does not exist, is caught."""
    spec = _spec()
    for table in ("modules", "not_numerical"):
        for module in list(spec[table])[-3:]:
            if not module.startswith(SCOPED):
                continue
            fewer = {**spec, table: {k: v for k, v in spec[table].items() if k != module}}
            assert unclassified(fewer) == [module]
    ghost = {**spec, "not_numerical": {**spec["not_numerical"], "analysis/_gone.py": "formatting"}}
    assert missing_paths(ghost) == ["src/swimscale/analysis/_gone.py"]
