"""The conda environments: declared in envs/spec.yaml with pyproject.toml's pins, each locked in
envs/<env>.yaml with every transitive pin (tools/lock_envs.py), chosen per rule, and how their jobs
find swimscale (PYTHONPATH, passed by --conda-not-block-search-path-envvars; swimscale.jobs)."""

import os
import re
import shutil
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))
import lock_envs  # noqa: E402

from swimscale.jobs import isolate_job_imports, set_job_environment  # noqa: E402


@pytest.fixture(scope="module")
def spec() -> dict:
    return lock_envs.read_spec()


def test_declared_pins_are_pyprojects_except_the_envs_own(spec):
    """Every package an env declares has pyproject.toml's pin; only an env's `pins:` differs (the
    CUDA 12 torch), and its lock carries exactly the declared versions."""
    pins = lock_envs.pyproject_pins()
    for env, entry in spec["envs"].items():
        overrides = {lock_envs.normalize(n) for n in (entry.get("pins") or {})}
        locked = lock_envs.read_lock(ROOT / "envs" / f"{env}.yaml")["pins"]
        for name, requirement in entry["declared"].items():
            version = requirement.split("==")[1]
            key = lock_envs.normalize(name)
            assert key in overrides or version == pins[key], f"{env}: {requirement}, pyproject pins {pins[key]}"
            assert locked[key] == version, f"envs/{env}.yaml: {name}=={locked[key]}, declared {requirement}"
    assert spec["envs"]["torch-cu12"]["declared"]["torch"] == "torch==2.10.0"
    assert spec["envs"]["torch"]["declared"]["torch"] == f"torch=={pins['torch']}"


def test_every_env_file_is_the_current_lock_of_its_spec(spec):
    """Offline: each envs/<env>.yaml was written by `make locks` from the current spec and pins, and no
    other env file lies beside them."""
    assert {p.stem for p in (ROOT / "envs").glob("*.yaml")} - {"spec"} == set(spec["envs"])
    for env in spec["envs"]:
        assert lock_envs.stale(env, spec) == [], env


def test_locks_target_python_3_11_and_glibc_2_28(spec):
    assert spec["python"] == "3.11" and spec["glibc"] == "2.28"
    for env in spec["envs"]:
        text = (ROOT / "envs" / f"{env}.yaml").read_text()
        assert "python=3.11" in yaml.safe_load(text)["dependencies"], env
        needed = re.search(r"Needs glibc >= 2\.(\d+)", text)
        assert needed and int(needed[1]) <= 28, f"envs/{env}.yaml: {needed and needed[0]}"
        assert len(lock_envs.read_lock(ROOT / "envs" / f"{env}.yaml")["pins"]) > len(spec["envs"][env]["declared"])


def test_a_changed_pin_makes_the_lock_stale(tmp_path, spec):
    """A pin changed in pyproject.toml without `make locks` is named, with the env and the fix."""
    for part in ("envs", "pyproject.toml"):
        (shutil.copytree if (ROOT / part).is_dir() else shutil.copy)(ROOT / part, tmp_path / part)
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('"tqdm==4.70.1"', '"tqdm==4.70.0"'))
    changed = lock_envs.read_spec(tmp_path)
    problems = lock_envs.stale("torch", changed, tmp_path)
    assert any("tqdm==4.70.1, the spec tqdm==4.70.0" in p and "make locks" in p for p in problems), problems
    assert lock_envs.stale("data", changed, tmp_path) == []  # data does not declare tqdm


def test_glibc_of_a_wheel_is_its_lowest_manylinux_tag():
    assert lock_envs.glibc_needed("numpy-2.4.6-cp311-cp311-manylinux_2_27_x86_64.manylinux_2_28_x86_64.whl") == (2, 27)
    assert lock_envs.glibc_needed("x-1-py3-none-manylinux2014_x86_64.manylinux_2_17_x86_64.whl") == (2, 17)
    assert lock_envs.glibc_needed("x-1-py3-none-manylinux1_x86_64.whl") == (2, 5)
    assert lock_envs.glibc_needed("x-1-py3-none-any.whl") == (2, 0)


def test_every_rule_has_conda_log_and_benchmark():
    for smk in (ROOT / "workflow" / "rules").glob("*.smk"):
        for rule in re.split(r"\nrule ", smk.read_text())[1:]:
            name = rule.split(":")[0]
            for directive in ("conda:", "log:", "benchmark:"):
                assert f"    {directive}" in rule, f"{smk.name}: rule {name} has no {directive}"


def test_profiles_pass_pythonpath_into_conda_jobs():
    for profile in (ROOT / "profiles").glob("*/config.yaml"):
        assert yaml.safe_load(profile.read_text())["conda-not-block-search-path-envvars"] is True, profile


def test_use_conda_without_the_flag_stops_before_any_job(snakemake, tmp_path):
    result = snakemake(tmp_path, "-n", "--use-conda")
    assert result.returncode != 0
    assert "--use-conda needs --conda-not-block-search-path-envvars" in result.output, result.output[-2000:]


def test_conda_jobs_get_this_checkouts_src_alone_on_pythonpath(monkeypatch, tmp_path):
    monkeypatch.setenv("PYTHONPATH", "/somewhere/else")
    set_job_environment(tmp_path, conda=True)
    assert os.environ["PYTHONPATH"] == str(tmp_path)
    set_job_environment(tmp_path)
    assert os.environ["PYTHONPATH"] == os.pathsep.join([str(tmp_path), str(tmp_path)])


def test_isolation_does_nothing_outside_a_snakemake_script_job():
    before = list(sys.path)
    assert isolate_job_imports() == []
    assert sys.path == before
