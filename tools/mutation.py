"""Mutation testing of the numerical core: ``make mutation`` (docs/testing.md).

Reads mutation/modules.toml (the modules and the fast unit tests that guard each) and runs mutmut on
one module at a time, each in its own scratch copy of the checkout with only that module's tests (a
run that is stopped keeps the modules it finished; `--only` reruns some). It reports per module the
mutants, how many the tests killed, how many are equivalent (listed with their reason in
mutation/equivalent.toml), which survived and the wall time of its run. The last line is

    mutation score: K killed of M (P %)

where M leaves the listed equivalent mutants out. Exit status 1 when P is below the target of
modules.toml. ``--only`` runs some modules (globs over their paths); ``--report`` re-reads the last
results of every module (after editing equivalent.toml) without running anything; ``--stubs`` also
prints each unexplained survivor as an equivalent.toml entry whose reason is still to be written.

``--planted`` (``make planted-bugs``) checks the bugs of mutation/planted_bugs.toml instead: each is put
back, one at a time, into a scratch copy, and the tests named for it must fail there (and pass without
it). Exit status 1 when one of them does not.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import math
import os
import shutil
import subprocess
import sys
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MODULES = ROOT / "mutation" / "modules.toml"
EQUIVALENT = ROOT / "mutation" / "equivalent.toml"
PLANTED = ROOT / "mutation" / "planted_bugs.toml"
WORKDIR = ROOT / "mutation" / ".work"  # scratch copies, one per module (git-ignored)
PLANTED_WORKDIR = ROOT / "mutation" / ".planted"
PACKAGE = "src/swimscale"
# What the tests need of the checkout: the package, the tests, the schema (src/swimscale/config links
# to workflow/schemas) and pyproject.toml (pytest's settings; mutmut's are added to the copy).
COPIED = ("src", "tests", "workflow", "config", "pyproject.toml")
# mutmut's verdicts that count as detected; every other one (survived, no tests, ...) is a survivor.
DETECTED = {"killed", "timeout", "segfault", "caught by type check"}
NOT_RUN = "not checked"  # a mutant a stopped run did not reach: neither killed nor a survivor
NOT_SURVIVED = DETECTED | {NOT_RUN}  # every status but a survivor's
WALL_TIME = "wall_seconds"  # in a module's scratch copy: how long its mutmut run took


@dataclass(frozen=True)
class Plan:
    """What modules.toml asks for."""

    modules: dict[str, list[str]]  # module path under src/swimscale/ -> test files or ids under tests/
    deselect: list[str]
    target: float

    @classmethod
    def read(cls, path: Path = MODULES, only: list[str] | None = None) -> Plan:
        spec = tomllib.loads(path.read_text())
        modules = {m: tests for m, tests in spec["modules"].items()
                   if only is None or any(fnmatch.fnmatch(m, pattern) for pattern in only)}
        if not modules:
            raise SystemExit(f"{path}: no module matches {only!r}")
        return cls(modules, spec.get("slow", {}).get("deselect", []), float(spec["target_percent"]))

    def tests(self) -> list[str]:
        return sorted({f"tests/{test}" for tests in self.modules.values() for test in tests})

    def alone(self, module: str) -> Plan:
        """The plan of one of its modules, with that module's tests only."""
        return Plan({module: self.modules[module]}, self.deselect, self.target)

    def mutmut_section(self) -> str:
        """The [tool.mutmut] table of the scratch copy's pyproject.toml."""
        pytest_args = ["-p", "no:cacheprovider"]
        for test in self.deselect:
            pytest_args += ["--deselect", f"tests/{test}"]
        settings = {
            "source_paths": ["src"],
            "also_copy": [name for name in COPIED if name not in ("src", "tests", "pyproject.toml")],
            "only_mutate": [f"{PACKAGE}/{module}" for module in self.modules],
            "pytest_add_cli_args_test_selection": self.tests(),
            "pytest_add_cli_args": pytest_args,
        }
        return "\n[tool.mutmut]\n" + "".join(f"{key} = {json.dumps(value)}\n" for key, value in settings.items())


def copy_checkout(workdir: Path) -> None:
    """A fresh copy of what the tests need (links kept as links)."""
    if workdir.exists():
        shutil.rmtree(workdir)
    workdir.mkdir(parents=True)
    for name in COPIED:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, workdir / name, symlinks=True,
                            ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache"))
        elif source.exists():
            shutil.copy2(source, workdir / name)


def add_mutmut_settings(workdir: Path, plan: Plan) -> None:
    pyproject = (workdir / "pyproject.toml").read_text()
    if "[tool.mutmut]" in pyproject:
        raise SystemExit("pyproject.toml has a [tool.mutmut] table: mutation/modules.toml is the one place")
    (workdir / "pyproject.toml").write_text(pyproject + plan.mutmut_section())


def test_environment(pythonpath: Path | None = None) -> dict[str, str]:
    """This environment with one thread per test process and, if given, `pythonpath` as the only one."""
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    env.update(OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    if pythonpath is not None:
        env["PYTHONPATH"] = str(pythonpath)
    return env


def run_mutmut(workdir: Path, max_children: int) -> int:
    """mutmut in the scratch copy (it puts its mutated package first on the path itself)."""
    mutmut = Path(sys.executable).parent / "mutmut"
    command = [str(mutmut), "run", "--max-children", str(max_children)]
    return subprocess.run(command, check=False, cwd=workdir, env=test_environment()).returncode


def module_workdir(base: Path, module: str) -> Path:
    """The scratch copy of one module's run: model/_ot.py -> <base>/model__ot."""
    return base / module.removesuffix(".py").replace("/", "_")


def nothing_to_mutate(workdir: Path, module: str) -> bool:
    """Whether mutmut made no mutant of ``module`` in its scratch copy."""
    meta = workdir / "mutants" / PACKAGE / f"{module}.meta"
    return meta.exists() and not json.loads(meta.read_text())["exit_code_by_key"]


def run_modules(base: Path, plan: Plan, max_children: int) -> int:
    """mutmut on each module of `plan` in turn, each in a fresh scratch copy with its own tests; each
    run's wall time is kept with its results. mutmut's exit status on the first failure, else 0."""
    for module in plan.modules:
        alone, workdir = plan.alone(module), module_workdir(base, module)
        print(f"\n==== {module}: {len(alone.tests())} test files/ids, {max_children} mutants at once", flush=True)
        start = time.monotonic()
        copy_checkout(workdir)
        add_mutmut_settings(workdir, alone)
        code = run_mutmut(workdir, max_children)
        seconds = time.monotonic() - start
        if code != 0 and nothing_to_mutate(workdir, module):
            # mutmut mutates functions only, and stops with an error when there are none (a module of
            # declarations, such as the statistics table): 0 mutants, reported as such.
            print(f"==== {module}: no function for mutmut to mutate (module-level declarations only)", flush=True)
            code = 0
        if code != 0:
            print(f"mutmut failed on {module} (exit status {code}) after {seconds / 60:.1f} min", file=sys.stderr)
            return code
        (workdir / WALL_TIME).write_text(f"{seconds:.0f}\n")
        print(f"==== {module}: {seconds / 60:.1f} min", flush=True)
    return 0


# --------------------------------------------------------------------------- results


@dataclass
class Mutant:
    name: str  # mutmut's: <module>.<x_function or xǁClassǁmethod>__mutmut_<n>
    status: str
    was: str = ""  # the changed source line(s), stripped
    now: str = ""

    @property
    def function(self) -> str:
        mangled = self.name.partition("__mutmut_")[0].rpartition(".")[2]
        return mangled[2:] if mangled.startswith("x_") else ".".join(p for p in mangled[1:].split("ǁ") if p)


@dataclass
class ModuleResult:
    module: str
    mutants: list[Mutant] = field(default_factory=list)
    equivalent: list[tuple[Mutant, str]] = field(default_factory=list)
    seconds: float = float("nan")  # wall time of the module's mutmut run

    @property
    def killed(self) -> int:
        return sum(m.status in DETECTED for m in self.mutants)

    @property
    def survivors(self) -> list[Mutant]:
        explained = {id(m) for m, _ in self.equivalent}
        return [m for m in self.mutants if m.status not in NOT_SURVIVED and id(m) not in explained]

    @property
    def not_run(self) -> int:
        return sum(m.status == NOT_RUN for m in self.mutants)

    @property
    def counted(self) -> int:
        return len(self.mutants) - len(self.equivalent) - self.not_run


def changed_lines(diff: str) -> tuple[str, str]:
    """(removed lines, added lines) of a unified diff, each stripped and joined by ' / '."""
    lines = diff.splitlines()
    removed = [line[1:].strip() for line in lines if line.startswith("-") and not line.startswith("---")]
    added = [line[1:].strip() for line in lines if line.startswith("+") and not line.startswith("+++")]
    return " / ".join(removed), " / ".join(added)


def read_results(base: Path, plan: Plan) -> tuple[list[ModuleResult], list[str]]:
    """Every mutant's verdict, and the diff of each one that was not detected, from each module's
    scratch copy (mutmut's own readers, which read paths relative to the current directory); and the
    modules without results."""
    from mutmut.mutation.diff_apply import get_diff_for_mutant
    from mutmut.stats import status_by_exit_code

    results, missing = [], []
    for module in plan.modules:
        workdir = module_workdir(base, module)
        meta = workdir / "mutants" / PACKAGE / f"{module}.meta"
        if not meta.exists():
            missing.append(module)
            continue
        os.chdir(workdir)
        codes = json.loads(meta.read_text())["exit_code_by_key"]
        wall = workdir / WALL_TIME
        result = ModuleResult(module, seconds=float(wall.read_text()) if wall.exists() else float("nan"))
        for name, code in sorted(codes.items()):
            mutant = Mutant(name, status_by_exit_code[code])
            if mutant.status not in NOT_SURVIVED:
                mutant.was, mutant.now = changed_lines(get_diff_for_mutant(name, path=Path(PACKAGE) / module))
            result.mutants.append(mutant)
        results.append(result)
    return results, missing


def explain(results: list[ModuleResult], path: Path = EQUIVALENT) -> list[str]:
    """Marks the survivors that equivalent.toml lists (by module, function and changed lines) as
    equivalent; returns the entries that matched no survivor (stale: the code or the tests changed)."""
    entries = tomllib.loads(path.read_text()).get("equivalent", []) if path.exists() else []
    used = set()
    for result in results:
        for mutant in result.mutants:
            if mutant.status in DETECTED:
                continue
            for i, entry in enumerate(entries):
                if (entry["module"], entry["function"], entry["was"], entry["now"]) == (
                        result.module, mutant.function, mutant.was, mutant.now):
                    result.equivalent.append((mutant, entry["reason"]))
                    used.add(i)
                    break
    modules = {r.module for r in results}
    return [f"{e['module']} {e['function']}: {e['was']} -> {e['now']}" for i, e in enumerate(entries)
            if i not in used and e["module"] in modules]


def toml_string(text: str) -> str:
    return f"'{text}'" if "'" not in text and "\n" not in text else json.dumps(text)


def stub(module: str, mutant: Mutant) -> str:
    """An equivalent.toml entry for `mutant`: only a person who checked that it cannot change
    behaviour writes its reason."""
    fields = {"module": module, "function": mutant.function, "was": mutant.was, "now": mutant.now}
    lines = [f"{key} = {toml_string(value)}" for key, value in fields.items()]
    return "[[equivalent]]\n" + "\n".join(lines) + '\nreason = "TODO: why no input can tell it apart"\n'


def report(results: list[ModuleResult], stale: list[str], target: float, missing: list[str]) -> bool:
    """Prints the per-module table, the survivors and the score line; True if the target is met by
    every module of the plan."""
    if not results:
        print(f"no results for {', '.join(missing)}")
        return False
    width = max(len(r.module) for r in results)
    print(f"\n{'module':<{width}}  mutants  killed  equivalent  survived  not run    score  minutes")
    for r in results:
        score = 100 * r.killed / r.counted if r.counted else 100.0
        print(f"{r.module:<{width}}  {len(r.mutants):7d}  {r.killed:6d}  {len(r.equivalent):10d}  "
              f"{len(r.survivors):8d}  {r.not_run:7d}  {score:5.1f} %  {r.seconds / 60:7.1f}")
    print(f"{'all':<{width}}  {sum(len(r.mutants) for r in results):7d}  {sum(r.killed for r in results):6d}  "
          f"{sum(len(r.equivalent) for r in results):10d}  {sum(len(r.survivors) for r in results):8d}  "
          f"{sum(r.not_run for r in results):7d}  {'':7s}  {sum(r.seconds for r in results if math.isfinite(r.seconds)) / 60:7.1f}")
    survivors = [(r.module, m) for r in results for m in r.survivors]
    if survivors:
        print(f"\nSurvivors ({len(survivors)}; not listed as equivalent in {EQUIVALENT.relative_to(ROOT)}):")
        for module, m in survivors:
            verdict = "" if m.status == "survived" else f" [{m.status}]"
            print(f"  {module} {m.function}{verdict}: {m.was}  ->  {m.now}")
    if stale:
        print(f"\nEntries of {EQUIVALENT.relative_to(ROOT)} that match no survivor (remove them):")
        print("\n".join(f"  {entry}" for entry in stale))
    killed, counted = sum(r.killed for r in results), sum(r.counted for r in results)
    percent = 100 * killed / counted if counted else 100.0
    equivalent = sum(len(r.equivalent) for r in results)
    print(f"\n{equivalent} equivalent mutants left out of the count (each with its reason in "
          f"{EQUIVALENT.relative_to(ROOT)}); target {target:g} %")
    stopped = [r.module for r in results if r.not_run]
    if missing or stopped:
        print(f"INCOMPLETE: no results for {', '.join(missing) or 'none'}; stopped before every mutant ran: "
              f"{', '.join(stopped) or 'none'} (run `python tools/mutation.py --only <module>`); the score below "
              "leaves out what did not run")
    print(f"mutation score: {killed} killed of {counted} ({percent:.1f} %)")
    return percent >= target and not missing and not stopped


# --------------------------------------------------------------------------- planted bugs


def put_back(workdir: Path, bug: dict) -> bool:
    """Applies `bug`'s changes to the scratch copy's file (from the checkout's); False if a quoted
    `old` text is not in it."""
    text = (ROOT / bug["file"]).read_text()
    for change in bug["changes"]:
        if change["old"] not in text:
            return False
        text = text.replace(change["old"], change["new"])
    (workdir / bug["file"]).write_text(text)
    return True


def run_tests(workdir: Path, tests: list[str]) -> int:
    """pytest's exit status on `tests` in the scratch copy: 0 passed, 1 some failed, 2-5 did not run."""
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *tests]
    result = subprocess.run(command, check=False, cwd=workdir, env=test_environment(workdir / "src"),
                            capture_output=True)
    return result.returncode


def check_planted(workdir: Path, path: Path = PLANTED) -> int:
    """Each bug of `path`, put back alone: each of its tests passes without it and fails with it."""
    bugs = tomllib.loads(path.read_text())["bug"]
    copy_checkout(workdir)
    baseline = run_tests(workdir, sorted({t for bug in bugs for t in bug["tests"]}))
    print(f"without the bugs, their tests {'pass' if baseline == 0 else f'FAIL (pytest exit status {baseline})'}")
    missed = int(baseline != 0)
    for bug in bugs:
        if put_back(workdir, bug):
            codes = {test: run_tests(workdir, [test]) for test in bug["tests"]}
            lines = [f"{'fails' if code == 1 else f'DOES NOT FAIL (pytest exit status {code})'}: {test}"
                     for test, code in codes.items()]
            caught = all(code == 1 for code in codes.values())
        else:
            lines, caught = [f"NOT APPLIED: the code it quotes is not in {bug['file']}"], False
        shutil.copy2(ROOT / bug["file"], workdir / bug["file"])
        missed += not caught
        print(f"- {bug['name']}: {'caught' if caught else 'MISSED'}\n    " + "\n    ".join(lines))
    print(f"planted bugs: {len(bugs) - missed} caught of {len(bugs)}")
    return 1 if missed else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", nargs="+", metavar="GLOB",
                        help="globs over the module paths of modules.toml, e.g. 'analysis/*' 'model/_ot.py'")
    parser.add_argument("--workdir", type=Path,
                        help=f"scratch copies (default {WORKDIR}, one folder per module; or {PLANTED_WORKDIR})")
    parser.add_argument("--max-children", type=int, default=os.cpu_count() or 1, help="mutants tested at once")
    parser.add_argument("--report", action="store_true", help="only report the last run's results")
    parser.add_argument("--stubs", action="store_true", help="print equivalent.toml stubs of the survivors")
    parser.add_argument("--planted", action="store_true", help="check the planted bugs instead")
    args = parser.parse_args(argv)
    workdir = (args.workdir or (PLANTED_WORKDIR if args.planted else WORKDIR)).resolve()
    if args.planted:
        return check_planted(workdir)
    plan = Plan.read(only=args.only)
    if not args.report:
        start = time.monotonic()
        code = run_modules(workdir, plan, args.max_children)
        if code != 0:
            return code
        print(f"\nmutmut ran {len(plan.modules)} modules in {(time.monotonic() - start) / 60:.1f} min "
              f"({args.max_children} mutants at once)")
        # The score is always that of every listed module: a partial run reports the others' last results.
        plan = Plan.read()
    results, missing = read_results(workdir, plan)
    stale = explain(results)
    if args.stubs:
        print("\n".join(stub(r.module, m) for r in results for m in r.survivors))
    return 0 if report(results, stale, plan.target, missing) else 1


if __name__ == "__main__":
    sys.exit(main())
