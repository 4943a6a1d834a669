"""Every rule's job imports only what its conda env declares: the static scan (tools/env_imports.py,
tools/import_graph.py) over the rules Snakemake loads, and the run-time guard that keeps Snakemake's
script preamble from lending a job the host's packages (swimscale.jobs.isolate_job_imports)."""

import copy
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))
import env_imports  # noqa: E402
from import_graph import Reach  # noqa: E402
from lock_envs import read_spec  # noqa: E402


@pytest.fixture(scope="module")
def jobs() -> list:
    return env_imports.all_jobs()


def test_every_rule_imports_only_what_its_env_declares(jobs):
    assert env_imports.check_jobs(jobs) == []


def test_the_scan_names_rule_module_and_env_when_an_env_loses_a_dependency(jobs):
    """faiss-cpu taken out of both torch envs: the rules that search or build an index fail, each with
    its env and the chain through which it reaches `import faiss` (train searches its student once
    trained); the rules that never call the search functions (query_states, subsample) do not."""
    spec = copy.deepcopy(read_spec())
    for env in ("torch", "torch-cu12"):
        spec["envs"][env]["packages"].remove("faiss-cpu")
    problems = env_imports.check_jobs(jobs, spec)
    failing = {re.match(r"rule (\S+) \(env (\S+)\)", p).groups() for p in problems}
    rules = ("index", "search_zero_shot", "train")
    assert failing == {(rule, env) for rule in rules for env in ("torch", "torch-cu12")}, problems
    assert all("imports faiss (faiss-cpu)" in p and "src/swimscale/retrieval/_index.py" in p
               for p in problems), problems


def test_a_module_no_lock_has_is_reported_as_not_provided(jobs, monkeypatch):
    real = env_imports.read_lock

    def without_pandas(path):
        lock = real(path)
        lock["pins"].pop("pandas", None)
        return lock

    spec = copy.deepcopy(read_spec())
    spec["envs"]["analysis"]["packages"].remove("pandas")
    monkeypatch.setattr(env_imports, "read_lock", without_pandas)
    problems = [p for p in env_imports.check_jobs(jobs, spec) if p.startswith("rule correlate ")]
    assert problems and "imports pandas (pandas), which envs/analysis.yaml does not provide" in problems[0], problems


def test_every_rule_of_the_rule_files_is_loaded_by_the_scan(jobs):
    written = {name for smk in (ROOT / "workflow" / "rules").glob("*.smk")
               for name in re.findall(r"^\s*(?:rule|checkpoint) (\w+):", smk.read_text(), flags=re.MULTILINE)}
    assert written <= {job.rule for job in jobs}, written - {job.rule for job in jobs}


def test_torch_cuda_selects_the_torch_env():
    for choice, env in ((12, "torch-cu12.yaml"), (13, "torch.yaml")):
        by_rule = {job.rule: job.env for job in env_imports.workflow_jobs({"torch_cuda": choice})}
        assert by_rule["train"] == ROOT / "envs" / env
        assert by_rule["search_zero_shot"] == ROOT / "envs" / env
        assert by_rule["subsample"] == ROOT / "envs" / "data.yaml"


def write_package(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def test_a_lazy_import_counts_only_when_its_function_is_reached(tmp_path):
    """The reachability that lets the analysis env go without FAISS: `import heavy` inside a function
    counts where reached code names that function (directly or through a re-export), a registry's
    functions count where reached code uses the registry, and TYPE_CHECKING or optional imports never."""
    src = write_package(tmp_path / "src", {
        "pkg/__init__.py": "from pkg._a import light, searching\nfrom pkg._b import REGISTRY\n",
        "pkg/_a.py": ("from typing import TYPE_CHECKING\nimport numpy\nif TYPE_CHECKING:\n    import typed_only\n"
                      "try:\n    import optional\nexcept ImportError:\n    optional = None\n"
                      "def light():\n    return numpy.zeros(1)\n"
                      "def searching():\n    import faiss\n    return faiss\n"
                      "def required():\n    try:\n        import needed\n    except ImportError as err:\n"
                      "        raise RuntimeError('install needed') from err\n"),
        "pkg/_b.py": ("def prepare():\n    import pyarrow\n\ndef make(f):\n    return {'x': f}\n\n"
                      "REGISTRY = make(prepare)\n"),
    })
    entry = {
        "light.py": "from pkg import light\nlight()\n",
        "search.py": "import pkg\npkg.searching()\n",
        "registry.py": "from pkg import REGISTRY\nREGISTRY['x']()\n",
        "required.py": "from pkg._a import required\nrequired()\n",
    }
    found = {}
    for name, text in entry.items():
        (tmp_path / name).write_text(text)
        found[name] = set(Reach(src, "pkg", tmp_path).run(tmp_path / name))
    assert found["light.py"] == {"numpy"}
    assert found["search.py"] == {"numpy", "faiss"}
    assert found["registry.py"] == {"numpy", "pyarrow"}
    assert found["required.py"] == {"numpy", "needed"}


@pytest.fixture(scope="module")
def bare_interpreter(tmp_path_factory) -> Path:
    """A venv of this Python with the standard library only: the stand-in for a conda env that has
    nothing installed (conda itself cannot be reached from our machines)."""
    venv = tmp_path_factory.mktemp("bare") / "venv"
    base = getattr(sys, "_base_executable", sys.executable)
    subprocess.run([base, "-m", "venv", "--without-pip", str(venv)], check=True)
    return venv / "bin"


def run_job(workdir: Path, bare_bin: Path, target: str) -> subprocess.CompletedProcess:
    """A Snakemake `script:` job run by another interpreter than Snakemake's, with the same preamble as a
    --use-conda job: --use-envmodules with a no-op `module` command and the bare venv first on PATH makes
    Snakemake run the script with that venv's `python` (snakemake/script/__init__.py,
    PythonScript.execute_script). PYTHONPATH carries this checkout's src/, as the profiles let it under conda."""
    fake = workdir / "fakebin"
    fake.mkdir(exist_ok=True)
    (fake / "module").write_text("#!/bin/sh\nexit 0\n")
    (fake / "module").chmod(0o755)
    env = {**os.environ, "PATH": os.pathsep.join([str(bare_bin), str(fake), os.environ["PATH"]]),
           "PYTHONPATH": str(ROOT / "src")}
    return subprocess.run([sys.executable, "-m", "snakemake", "--use-envmodules", "--cores", "1", target],
                          cwd=workdir, env=env, capture_output=True, text=True, timeout=300)


def test_a_job_under_another_interpreter_imports_only_from_it(tmp_path, bare_interpreter):
    (tmp_path / "Snakefile").write_text(
        'rule probe:\n    output: "probe.json"\n    envmodules: "none"\n    script: "probe.py"\n\n'
        'rule leak:\n    output: "leak.json"\n    envmodules: "none"\n    script: "leak.py"\n')
    (tmp_path / "probe.py").write_text(
        "import json, sys\nbefore = list(sys.path)\nimport swimscale\nimported = list(sys.path)\n"
        "from swimscale.jobs import isolate_job_imports\nisolate_job_imports()\n"
        "found = {'prefix': sys.prefix, 'swimscale': swimscale.__file__, 'path': sys.path,\n"
        "         'import_kept_path': imported == before, 'before': before}\n"
        "try:\n    import numpy\n    found['numpy'] = numpy.__file__\n"
        "except ModuleNotFoundError:\n    found['numpy'] = None\n"
        "json.dump(found, open(snakemake.output[0], 'w'))\n")
    (tmp_path / "leak.py").write_text("import numpy\nfrom swimscale.jobs import isolate_job_imports\nisolate_job_imports()\n"
        "open(snakemake.output[0], 'w').write('{}')\n")

    probe = run_job(tmp_path, bare_interpreter, "probe.json")
    assert probe.returncode == 0, probe.stderr[-3000:]
    found = json.loads((tmp_path / "probe.json").read_text())
    assert found["prefix"] == str(bare_interpreter.parent)
    assert found["swimscale"] == str(ROOT / "src" / "swimscale" / "__init__.py")
    # `import swimscale` alone leaves the preamble's sys.path as it was (the host's paths still on it);
    # the explicit call at the top of the job script is what takes them off.
    assert found["import_kept_path"]
    assert [p for p in found["before"] if "site-packages" in p and not p.startswith(found["prefix"])]
    assert found["numpy"] is None  # the host venv has numpy; the job's interpreter does not
    assert not [p for p in found["path"] if "site-packages" in p and not p.startswith(found["prefix"])], found["path"]

    leak = run_job(tmp_path, bare_interpreter, "leak.json")
    assert leak.returncode != 0
    message = r"ImportError: imported from outside this job's conda env \S+: numpy \("
    assert re.search(message, leak.stderr), leak.stderr[-3000:]


def test_every_job_script_isolates_its_imports_first():
    """Importing swimscale has no side effect, so each job entry point (workflow/scripts/*.py) makes the
    --use-conda isolation itself: its first statement imports isolate_job_imports, its second calls it."""
    import ast

    scripts = sorted((ROOT / "workflow" / "scripts").glob("*.py"))
    assert len(scripts) > 10
    for script in scripts:
        body = ast.parse(script.read_text()).body
        first, second = body[0], body[1]
        assert isinstance(first, ast.ImportFrom) and first.module == "swimscale.jobs" \
            and [a.name for a in first.names] == ["isolate_job_imports"], script
        assert isinstance(second, ast.Expr) and ast.unparse(second) == "isolate_job_imports()", script


def test_importing_swimscale_changes_neither_sys_path_nor_the_environment():
    code = ("import os, sys; a = list(sys.path); e = dict(os.environ); import swimscale, swimscale.jobs; "
            "assert sys.path == a, 'sys.path changed'; assert dict(os.environ) == e, 'environment changed'")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT / "src")})
    assert result.returncode == 0, result.stderr
