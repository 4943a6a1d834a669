# The two commands of the README: `make run` (the study) and `make test` (the test suite).
PYTHON ?= python3
VENV ?= .venv
CORES ?= all
SNAKEMAKE_ARGS ?=
BIN := $(VENV)/bin

.PHONY: run test mutation planted-bugs lint report clean locks check-locks

# The venv is (re)built when pyproject.toml changes; pins there make every install identical.
$(BIN)/.swimscale-run: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e .
	touch $@

$(BIN)/.swimscale-test: pyproject.toml $(BIN)/.swimscale-run
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $@

# Every job's environment (OMP_WAIT_POLICY, PYTHONPATH) is set by the workflow itself (common.smk,
# swimscale.jobs), and that of the test process by tests/conftest.py: nothing to set here.
run: $(BIN)/.swimscale-run
	$(BIN)/snakemake --cores $(CORES) $(SNAKEMAKE_ARGS)
	@echo
	@echo "Results:"
	@echo "  results/summary.md              the answer in words: warnings first, each claim from its 95% CI or model comparison"
	@echo "  results/tables/recall.tsv       one row per language x benchmark x method x N x seed: Recall@50, R@100,"
	@echo "                                  nDCG@10, MRR@10, training budget (steps, steps_at_best, cap_bound), overlap counts"
	@echo "  results/tables/correlation.tsv  Spearman, Pearson, Kendall vs log10 N and slope per doubling, within each seed,"
	@echo "                                  averaged; t intervals on seeds - 1 df (plus the query part the seeds share)"
	@echo "  results/tables/                 also Recall@50 per N with query x seed bootstrap CIs and paired gains, learning"
	@echo "                                  curves (flat / log-linear / saturating by AICc), pooled slopes per tier (CR2)"
	@echo "  results/plots/recall_vs_n.png   Recall@50 against N per language, one line per method, bootstrap CI bands"
	@echo "  make report                     the HTML report: results/report.html"

test: $(BIN)/.swimscale-test
	$(BIN)/pytest

# Mutation testing of the numerical core (the modules of mutation/modules.toml, with their fast tests);
# ends with "mutation score: K killed of M (P %)" and fails below the target. docs/testing.md.
mutation: $(BIN)/.swimscale-test
	$(BIN)/python tools/mutation.py

# The bugs that once went unnoticed (mutation/planted_bugs.toml), put back one at a time: their tests must fail.
planted-bugs: $(BIN)/.swimscale-test
	$(BIN)/python tools/mutation.py --planted

# Also offline: each conda env's lock was written from the current envs/spec.yaml and pins, and every
# rule's job imports only what its env declares.
lint: $(BIN)/.swimscale-test
	$(BIN)/snakemake --lint
	$(BIN)/snakefmt --check .
	$(BIN)/python tools/lock_envs.py stale
	$(BIN)/python tools/env_imports.py

# The conda envs' locks, envs/<env>.yaml with every transitive pin: run after changing envs/spec.yaml
# or a pin in pyproject.toml. Needs PyPI and a CPython 3.11 on Linux x86-64 (docs/cluster.md).
locks: $(BIN)/.swimscale-run
	$(BIN)/python tools/lock_envs.py lock

# Needs PyPI: every lock resolves for its target exactly as written (CI runs it; ~6 min, pip fetches
# every wheel of the torch envs to read its metadata).
check-locks: $(BIN)/.swimscale-run
	$(BIN)/python tools/lock_envs.py check

report: $(BIN)/.swimscale-run
	$(BIN)/snakemake --report results/report.html

clean:
	rm -rf results .snakemake
