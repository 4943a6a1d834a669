"""What the data tests share: the workflow of this checkout run on one core, as its result."""

import pytest


@pytest.fixture
def workflow(snakemake):
    """(return code, output) of the workflow on `config` in `workdir`, on one core."""

    def run(workdir, config, *args):
        result = snakemake(workdir, *args, config=config, cores=1, timeout=600)
        return result.returncode, result.output

    return run
