"""How many submissions a run makes to the cluster: the dry run of the SLURM profile, counted.

With the profile's groups (profiles/slurm/config.yaml: ``groups``, ``group-components``) Snakemake
submits one sbatch per *group job* — jobs of one group that the DAG connects, or ``group-components``
of them merged — and one per ungrouped job. Jobs that never reach the cluster are left out: rules
without output (the targets ``all``, ``all_<code>``) and ``localrules``. The numbers come from the dry
run's own listing (``Group job …`` headers, then their jobs indented; ungrouped jobs unindented) and are
checked against its ``Job stats`` total, so a listing that this parser misreads stops it.

    python tools/cluster_jobs.py --configfile config/full_study.yaml --replace-workflow-config
    python tools/cluster_jobs.py --profile profiles/local        # another profile (local: no groups)
    python tools/cluster_jobs.py --json counts.json ...          # also write the counts

Every argument it does not know goes to ``snakemake -n`` as is. Prints the submissions, the group jobs
(and the jobs in them, per rule) and the ungrouped jobs per rule. docs/cluster.md quotes its counts.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROFILE = ROOT / "profiles" / "slurm"

GROUP_HEADER = re.compile(r"^(?:\[[^]]*\] )?Group job (\S+) \(jobs in lexicogr\. order\):$")
JOB_HEADER = re.compile(r"^( *)rule (\w+):$")


@dataclass
class Submissions:
    """What a dry run would submit: group jobs and ungrouped jobs, and what stays on the login node."""

    group_jobs: int = 0
    ungrouped_jobs: int = 0
    jobs_in_groups: Counter = field(default_factory=Counter)  # rule -> jobs inside group jobs
    group_kinds: Counter = field(default_factory=Counter)  # "rule+rule+…" (the rules in it) -> group jobs
    ungrouped: Counter = field(default_factory=Counter)  # rule -> ungrouped jobs submitted
    local: Counter = field(default_factory=Counter)  # rule -> jobs run by Snakemake itself
    total_jobs: int = 0  # the dry run's Job stats total

    @property
    def submissions(self) -> int:
        return self.group_jobs + self.ungrouped_jobs


def local_rules(workflow: Path = ROOT / "workflow") -> set[str]:
    """Rules declared ``localrules:`` (or ``localrule: True``) in the workflow's .smk files."""
    names: set[str] = set()
    for smk in sorted(workflow.rglob("*.smk")):
        text = smk.read_text(encoding="utf-8")
        for block in re.findall(r"^localrules:\s*((?:\s*\w+,?)+)", text, flags=re.M):
            names.update(re.findall(r"\w+", block))
        names.update(re.findall(r"^rule (\w+):\n(?:    .*\n)*?    localrule: True", text, flags=re.M))
    return names


def parse(dry_run: str, local: set[str]) -> Submissions:
    """The submissions of a dry run's output (Snakemake 9's listing); see the module docstring."""
    counts = Submissions()
    lines = dry_run.splitlines()
    groups: list[set[str]] = []  # the rules of each group job
    for i, line in enumerate(lines):
        if GROUP_HEADER.match(line):
            groups.append(set())
            continue
        job = JOB_HEADER.match(line)
        if job is None:
            continue
        indent, rule = job.groups()
        block = _block(lines, i + 1, len(indent) + 4)
        if indent:
            counts.jobs_in_groups[rule] += 1
            groups[-1].add(rule)
        elif rule in local or not any(entry.startswith("output:") for entry in block):
            counts.local[rule] += 1
        else:
            counts.ungrouped_jobs += 1
            counts.ungrouped[rule] += 1
    counts.group_jobs = len(groups)
    counts.group_kinds.update("+".join(sorted(rules)) for rules in groups)
    stats = dry_run[dry_run.rindex("Job stats:"):]
    counts.total_jobs = int(re.search(r"^total\s+(\d+)$", stats, flags=re.M).group(1))
    listed = sum(counts.jobs_in_groups.values()) + counts.ungrouped_jobs + sum(counts.local.values())
    if listed != counts.total_jobs:
        raise ValueError(f"the dry run lists {listed} jobs but its Job stats say {counts.total_jobs}: "
                         "this parser does not read this Snakemake's output")
    return counts


def _block(lines: list[str], start: int, indent: int) -> list[str]:
    """The entries (``input: …``, ``output: …``) of the job whose header precedes `start`."""
    entries = []
    for line in lines[start:]:
        if not line.startswith(" " * indent) or not line.strip():
            break
        entries.append(line.strip())
    return entries


def dry_run(snakemake_args: list[str], profile: Path | None) -> str:
    """The output of ``snakemake -n`` with the profile, from the checkout's Snakefile."""
    command = [sys.executable, "-m", "snakemake", "-n", "--snakefile", str(ROOT / "Snakefile"),
               *(["--profile", str(profile)] if profile else []), *snakemake_args]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{(result.stdout + result.stderr)[-4000:]}")
    return result.stdout + result.stderr


def report(counts: Submissions) -> str:
    grouped = sum(counts.jobs_in_groups.values())
    lines = [f"{counts.submissions} cluster submissions for {counts.total_jobs} jobs: {counts.group_jobs} group "
             f"jobs holding {grouped} jobs, {counts.ungrouped_jobs} ungrouped jobs; "
             f"{sum(counts.local.values())} run by Snakemake itself"]
    lines += [f"  {n} group jobs of {kind}" for kind, n in sorted(counts.group_kinds.items())]
    lines += [f"  in groups: {rule} {n}" for rule, n in sorted(counts.jobs_in_groups.items())]
    lines += [f"  ungrouped: {rule} {n}" for rule, n in sorted(counts.ungrouped.items())]
    lines += [f"  local: {rule} {n}" for rule, n in sorted(counts.local.items())]
    return "\n".join(lines)


def as_json(counts: Submissions) -> dict:
    """The counts as plain JSON values (``asdict`` would rebuild each Counter from its pairs)."""
    fields_ = {name: dict(value) if isinstance(value, Counter) else value for name, value in vars(counts).items()}
    return {**fields_, "submissions": counts.submissions}


def main(argv: list[str] | None = None) -> Submissions:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--profile", type=Path, default=PROFILE, help="the profile (default: profiles/slurm)")
    parser.add_argument("--json", type=Path, help="also write the counts here")
    args, snakemake_args = parser.parse_known_args(argv)
    counts = parse(dry_run(snakemake_args, args.profile), local_rules())
    print(report(counts))
    if args.json:
        args.json.write_text(json.dumps(as_json(counts), indent=1) + "\n")
    return counts


if __name__ == "__main__":
    main()
