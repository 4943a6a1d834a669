"""swimscale: how does zero-shot Recall@50 on very-low-resource languages grow with the number of
SWIM-IR training samples?

Subpackages, in the order of the pipeline (docs/architecture.md follows one record through them):

- :mod:`swimscale.formats` — the ground floor: the TREC run and qrels formats, the one atomic write, the
  shared limits (standard library only; every subpackage may use it).
- :mod:`swimscale.config` — the configuration: the JSON schema's defaults, and the checks the schema
  cannot express (run when Snakemake builds the DAG).
- :mod:`swimscale.data` — training pools and benchmarks in one normalised form: the Bible pairs,
  SWIM-IR, benchmark sources, nested subsamples, validation. Standard library only (no torch).
- :mod:`swimscale.model` — encoders, optimal transport, training methods, the student's training.
- :mod:`swimscale.retrieval` — exact inner-product search and trec_eval-compatible metrics.
- :mod:`swimscale.analysis` — the statistics of the sweep, its tables, plots and ``summary.md``.

Importing this package imports none of them, and changes nothing: not ``sys.path``, not the
environment. A job script that runs under another interpreter (a ``--use-conda`` job) calls
:func:`swimscale.jobs.isolate_job_imports` itself, first (workflow/scripts/*.py).
"""

__version__ = "0.1.0"
