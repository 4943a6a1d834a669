"""What every test shares: the tiny config (tests/fixtures/tiny_config.yaml, a few hundred Bible
verses) and one way to run the workflow of this checkout, as a user would, in a working directory."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from swimscale.jobs import set_job_environment

ROOT = Path(__file__).resolve().parents[1]
TINY = ROOT / "tests" / "fixtures" / "tiny_config.yaml"

# The tests that train or encode in this process (tests/model, tests/retrieval) are not Snakemake jobs,
# so the workflow does not set their environment: the same setting as every job's (OMP_WAIT_POLICY),
# here, before any test module imports torch. Snakemake runs below set their jobs' environment themselves.
set_job_environment()


class Snakemake:
    """`snakemake --snakefile <checkout>/Snakefile --directory <workdir> --configfile <config>`, in a
    subprocess with this test's Python."""

    snakefile = ROOT / "Snakefile"

    def command(self, workdir, *args, config: Path = TINY, cores: int | None = 2) -> list[str]:
        """The command line; `cores=None` leaves the cores to a profile given in `args`."""
        cores_flag = [] if cores is None else ["--cores", str(cores)]
        return [sys.executable, "-m", "snakemake", "--snakefile", str(self.snakefile), "--directory", str(workdir),
                "--configfile", str(config), *cores_flag, *map(str, args)]

    def __call__(self, workdir, *args, config: Path = TINY, cores: int | None = 2, env: dict | None = None,
                 timeout: int = 1200) -> subprocess.CompletedProcess:
        """Runs it; the result has `.output`, stdout and stderr together. `env`: variables to add."""
        result = subprocess.run(self.command(workdir, *args, config=config, cores=cores), capture_output=True,
                                text=True, env={**os.environ, **(env or {})}, timeout=timeout)
        result.output = result.stdout + result.stderr
        return result


@pytest.fixture(scope="session")
def snakemake() -> Snakemake:
    """Runs the workflow: ``snakemake(workdir, *args, config=TINY, cores=2, env=None, timeout=1200)``."""
    return Snakemake()


@pytest.fixture(scope="session")
def tiny_config_path() -> Path:
    return TINY


@pytest.fixture
def tiny_config() -> dict:
    """The tiny config as written (a fresh copy: tests change it); `swimscale.config.validated` fills
    in the schema's defaults as Snakemake does."""
    return yaml.safe_load(TINY.read_text())
