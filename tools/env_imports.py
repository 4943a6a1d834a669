"""Static check: every module a rule's job imports is declared by that rule's conda env.

    python tools/env_imports.py            # every rule, under every torch_cuda choice
    python tools/env_imports.py -v         # also lists what each rule imports, and from where

Snakemake loads the workflow (tests/fixtures/tiny_config.yaml, once per `torch_cuda` value of the
schema) and gives each rule's `conda:` file and `script:` (or `python -m swimscale` in its `shell:`).
From the script, the code that can run is followed through the swimscale package (tools/import_graph.py:
module-level code of every imported module, the bodies of the functions and classes reached code names;
not imports under `if TYPE_CHECKING:` nor optional ones, guarded by `except ImportError`). Each
third-party top-level module is mapped to the distributions that install it
(importlib.metadata.packages_distributions() of this interpreter, which has every env's packages), and
one of them must be declared by the env in envs/spec.yaml: a package that the env has only as a
dependency of another (in its lock, envs/<env>.yaml) is not enough, because its version is not ours to pin.

Limits, by construction: what tools/import_graph.py does not follow (names built at run time); rules
defined only under other configs are not loaded (tests/workflow/test_imports.py names those).
"""

from __future__ import annotations

import argparse
import importlib.metadata
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from import_graph import Reach  # noqa: E402
from lock_envs import ROOT, normalize, read_lock, read_spec  # noqa: E402

SRC = ROOT / "src"
PACKAGE = "swimscale"
SCAN_CONFIG = ROOT / "tests" / "fixtures" / "tiny_config.yaml"


@dataclass
class Job:
    """What one rule runs: its env file and its entry (a script file, or a module of the package)."""

    rule: str
    env: Path | None
    entry: Path | None  # None: a target rule, or a run:/shell: job that starts no Python of ours


def workflow_jobs(config_overrides: dict) -> list[Job]:
    """Every rule, as Snakemake loads it with the scan's config and the overrides."""
    from snakemake.api import SnakemakeApi
    from snakemake.settings.types import ConfigSettings, OutputSettings, ResourceSettings

    jobs = []
    with tempfile.TemporaryDirectory() as workdir, SnakemakeApi(OutputSettings(quiet={"all"})) as api:
        workflow_api = api.workflow(
            resource_settings=ResourceSettings(),
            config_settings=ConfigSettings(configfiles=[SCAN_CONFIG], config=config_overrides),
            snakefile=ROOT / "Snakefile", workdir=Path(workdir))
        for rule in workflow_api._workflow.rules:  # the rules as Snakemake compiled them
            basedir = Path(rule.basedir.get_path_or_uri(secret_free=True))
            entry = None
            if rule.script:
                entry = (basedir / rule.script).resolve()
            elif rule.shellcmd and f"-m {PACKAGE}" in rule.shellcmd:
                entry = SRC / PACKAGE / "__main__.py"
            env = (basedir / str(rule.conda_env)).resolve() if rule.conda_env else None
            jobs.append(Job(rule.name, env, entry))
    return jobs


def all_jobs() -> list[Job]:
    """The rules under every torch_cuda choice of the schema (each selects another torch env)."""
    schema = yaml.safe_load((ROOT / "workflow" / "schemas" / "config.schema.yaml").read_text())
    choices = schema["properties"].get("torch_cuda", {}).get("enum", [None])
    jobs = {}
    for choice in choices:
        for job in workflow_jobs({} if choice is None else {"torch_cuda": choice}):
            jobs[(job.rule, job.env)] = job
    return list(jobs.values())


def problems_of(job: Job, reach: Reach, spec: dict, distributions: dict[str, list[str]]) -> list[str]:
    """Why a job could import something its env does not declare (empty when it cannot)."""
    if job.env is None:
        return [f"rule {job.rule}: no conda: directive"]
    env = job.env.stem
    if job.env.parent != ROOT / "envs" or env not in spec["envs"]:
        return [f"rule {job.rule}: conda: {job.env} is not an env of envs/spec.yaml"]
    declared = {normalize(name) for name in spec["envs"][env]["packages"]}
    locked = read_lock(job.env)["pins"]
    problems = []
    for module in sorted(reach.third_party):
        providers = [normalize(d) for d in distributions.get(module, [])]
        if any(p in declared for p in providers):
            continue
        if not providers:
            problem = f"imports {module}, which no installed distribution provides"
        elif any(p in locked for p in providers):
            problem = (f"imports {module} ({', '.join(providers)}), which env {env} does not declare in "
                       f"envs/spec.yaml (envs/{env}.yaml pins it: a dependency of a declared package, or a stale lock)")
        else:
            problem = (f"imports {module} ({', '.join(providers)}), which envs/{env}.yaml does not provide: "
                       f"add it to envs/spec.yaml (env {env}) and run `make locks`")
        chain = " <- ".join(reach.why(module))
        problems.append(f"rule {job.rule} (env {env}) {problem}. Reached: {chain}")
    return problems


def check_jobs(jobs: list[Job], spec: dict | None = None, verbose: bool = False) -> list[str]:
    """Every problem of every job that runs Python of ours (empty when the envs are right)."""
    spec = spec or read_spec()
    distributions = importlib.metadata.packages_distributions()
    problems, reaches = [], {}
    for job in sorted(jobs, key=lambda j: (j.rule, str(j.env))):
        if job.entry is None:
            continue
        if job.entry not in reaches:
            reaches[job.entry] = Reach(SRC, PACKAGE, ROOT)
            reaches[job.entry].run(job.entry)
        reach = reaches[job.entry]
        if verbose:
            print(f"{job.rule} [{job.env and job.env.name}]: " +
                  ", ".join(f"{m} ({w})" for m, w in sorted(reach.third_party.items())))
        problems += problems_of(job, reach, spec, distributions)
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)
    problems = check_jobs(all_jobs(), verbose=args.verbose)
    for problem in problems:
        print(f"env_imports: {problem}", file=sys.stderr)
    if not problems:
        print("env_imports: every rule's imports are declared by its conda env")
    return int(bool(problems))


if __name__ == "__main__":
    sys.exit(main())
