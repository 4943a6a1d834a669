#!/usr/bin/env bash
# CI: the tiny end-to-end study through `snakemake --profile profiles/slurm` on a real SLURM cluster.
#
# Installs Debian's slurm-wlm and munge if missing, starts a single-node cluster on localhost (no
# systemd: munged, slurmctld and slurmd by hand, config at /etc/slurm/slurm.conf), runs
# tests/fixtures/tiny_config.yaml in a temp directory with profiles/slurm plus .ci/slurm-ci.yaml laid on
# top (no GPU, no accounting, 2 CPUs), checks the outputs, and stops every daemon it started by its
# PID, on failure too. Needs root. See ../shared/notes/slurm-single-node.md for the pitfalls.
#
# The profile's groups are in force: the script counts the submissions the dry run plans
# (tools/cluster_jobs.py) and checks that SLURM got exactly those, plus one retry. The retry is made
# on purpose: the first training job exits after its second checkpoint (.ci/fail_once), so its group
# job fails, is submitted again with attempt 2, and that training must resume from its checkpoint.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
VENV=${VENV:-.venv}
PY=$ROOT/$VENV/bin/python
SNAKEMAKE_TIMEOUT=${SNAKEMAKE_TIMEOUT:-2400} # seconds; CI has 90 minutes for everything
t0=$(date +%s)
say() { echo "slurm_e2e [$(($(date +%s) - t0)) s]: $*"; }

if [ "$(id -u)" != 0 ]; then
    say "needs root (installs packages, starts munged/slurmctld/slurmd)"
    exit 1
fi
if pgrep -x slurmctld >/dev/null || pgrep -x slurmd >/dev/null; then
    say "a slurmctld or slurmd is already running on this machine; not starting a second cluster"
    exit 1
fi

# --- packages ---------------------------------------------------------------------------------
if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null || ! command -v sbatch >/dev/null ||
    ! command -v munged >/dev/null; then
    say "installing slurm-wlm and munge"
    apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q slurm-wlm munge >/dev/null
fi
if ! "$PY" -c "import snakemake_executor_plugin_slurm" 2>/dev/null; then
    say "installing the SLURM executor plugin (pyproject extra 'slurm')"
    "$PY" -m pip install --quiet --disable-pip-version-check -e '.[slurm]'
fi

# --- cluster ----------------------------------------------------------------------------------
WORK=$(mktemp -d /tmp/swimscale-slurm.XXXXXX)
CONF=/etc/slurm/slurm.conf
HOST=$(hostname -s)
MUNGE_PIDFILE=""   # set only if this script started munged
CONF_BACKUP=""
SLURM_STARTED=""

stop_pid_file() { # stop the daemon whose PID is in $1: TERM, then KILL after 20 s
    local file=$1 pid
    [ -s "$file" ] || return 0
    pid=$(cat "$file")
    kill -0 "$pid" 2>/dev/null || return 0
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 40); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.5
    done
    kill -KILL "$pid" 2>/dev/null || true
}

cleanup() {
    local rc=$?
    set +e
    if [ "$rc" != 0 ]; then
        say "FAILED (exit $rc); logs follow"
        for log in "$WORK/snakemake.log" "$WORK/slurmctld.log" "$WORK/slurmd.log"; do
            [ -f "$log" ] && { echo "----- tail of $log"; tail -n 60 "$log"; }
        done
        find "$WORK/run/.snakemake/slurm_logs" -name '*.log' 2>/dev/null | head -n 5 | while read -r log; do
            echo "----- tail of $log"
            tail -n 30 "$log"
        done
        find "$WORK/run/results/logs" -name '*.log' -newer "$WORK/slurm.conf" 2>/dev/null | head -n 5 |
            while read -r log; do
                echo "----- tail of $log"
                tail -n 20 "$log"
            done
    fi
    if [ -n "$SLURM_STARTED" ]; then
        # Jobs left behind (a failed or timed-out run) are cancelled before their daemons go.
        jobs_left=$(squeue -h -o %i 2>/dev/null)
        if [ -n "$jobs_left" ]; then
            scancel $jobs_left 2>/dev/null
            for _ in $(seq 30); do
                [ -z "$(squeue -h -o %i 2>/dev/null)" ] && break
                sleep 1
            done
        fi
    fi
    stop_pid_file "$WORK/slurmd.pid"
    stop_pid_file "$WORK/slurmctld.pid"
    [ -n "$MUNGE_PIDFILE" ] && stop_pid_file "$MUNGE_PIDFILE"
    if [ -L "$CONF" ] && [ "$(readlink "$CONF")" = "$WORK/slurm.conf" ]; then rm -f "$CONF"; fi
    [ -n "$CONF_BACKUP" ] && mv -f "$CONF_BACKUP" "$CONF"
    if [ "$rc" = 0 ]; then rm -rf "$WORK"; else say "kept $WORK for inspection"; fi
    say "cluster stopped"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# munge: reuse a working one, else start ours.
if munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
    say "munged already running; using it"
else
    install -d -o munge -g munge -m 0755 /run/munge
    if [ ! -s /etc/munge/munge.key ]; then
        dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
        chown munge:munge /etc/munge/munge.key
        chmod 0400 /etc/munge/munge.key
    fi
    MUNGE_PIDFILE=/run/munge/munged.pid
    runuser -u munge -- munged --force --pid-file="$MUNGE_PIDFILE" # --force: a stale socket of a dead munged
    for _ in $(seq 20); do
        munge -n 2>/dev/null | unmunge >/dev/null 2>&1 && break
        sleep 0.5
    done
    munge -n | unmunge >/dev/null
    say "munged started (pid $(cat "$MUNGE_PIDFILE"))"
fi

CPUS=$(nproc)
MEM_MB=$(awk '/^MemTotal:/ {printf "%d", $2 / 1024 * 0.8}' /proc/meminfo)
mkdir -p "$WORK/state" "$WORK/spool"
cat >"$WORK/slurm.conf" <<EOF
ClusterName=swimscaleci
SlurmctldHost=$HOST(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
StateSaveLocation=$WORK/state
SlurmdSpoolDir=$WORK/spool
SlurmctldPidFile=$WORK/slurmctld.pid
SlurmdPidFile=$WORK/slurmd.pid
SlurmctldLogFile=$WORK/slurmctld.log
SlurmdLogFile=$WORK/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
MpiDefault=none
MinJobAge=300
NodeName=$HOST NodeAddr=127.0.0.1 CPUs=$CPUS Boards=1 SocketsPerBoard=1 CoresPerSocket=$CPUS ThreadsPerCore=1 RealMemory=$MEM_MB State=UNKNOWN
PartitionName=debug Nodes=$HOST Default=YES MaxTime=INFINITE State=UP
EOF
# The job-step plugin drops SLURM_* variables before srun, so SLURM_CONF alone is not enough.
mkdir -p /etc/slurm
if [ -e "$CONF" ] && [ ! -L "$CONF" ]; then
    CONF_BACKUP=$CONF.swimscale-ci-backup
    mv "$CONF" "$CONF_BACKUP"
fi
ln -sfn "$WORK/slurm.conf" "$CONF"

SLURM_STARTED=1
slurmctld
slurmd
for _ in $(seq 60); do
    state=$(sinfo -h -N -o %T 2>/dev/null | head -n 1)
    [ "$state" = idle ] && break
    sleep 1
done
[ "$state" = idle ] || { say "node state '$state', not idle"; exit 1; }
say "cluster up: slurmctld pid $(cat "$WORK/slurmctld.pid"), slurmd pid $(cat "$WORK/slurmd.pid"), $CPUS CPUs, ${MEM_MB} MB"
sbatch --wait --quiet --output="$WORK/smoke.out" --wrap 'srun hostname' >/dev/null
say "smoke job ran on $(cat "$WORK/smoke.out")"

# --- the workflow through the real profile ----------------------------------------------------
"$PY" .ci/layer_profile.py profiles/slurm .ci/slurm-ci.yaml "$WORK/profile"
mkdir -p "$WORK/run"
"$PY" tools/cluster_jobs.py --profile "$WORK/profile" --directory "$WORK/run" \
    --configfile tests/fixtures/tiny_config.yaml --json "$WORK/planned.json" | tee "$WORK/planned.txt"
say "snakemake --profile profiles/slurm (+ .ci/slurm-ci.yaml) on tests/fixtures/tiny_config.yaml"
t_run=$(date +%s)
(
    cd "$WORK/run"
    # Every job's environment (OMP_WAIT_POLICY, PYTHONPATH) comes from the workflow (common.smk), which
    # keeps a PYTHONPATH it finds after src/: here the fault injection (sbatch passes it on to the jobs).
    PYTHONPATH="$ROOT/.ci/fail_once" SWIMSCALE_CI_FAIL_ONCE="$WORK/failed_once" \
        timeout -k 120 "$SNAKEMAKE_TIMEOUT" "$ROOT/$VENV/bin/snakemake" \
        --snakefile "$ROOT/Snakefile" --configfile "$ROOT/tests/fixtures/tiny_config.yaml" \
        --profile "$WORK/profile"
) >"$WORK/snakemake.log" 2>&1
say "snakemake finished in $(($(date +%s) - t_run)) s"
# What SLURM was asked for, per job (finished jobs stay listed for MinJobAge = 300 s).
squeue -h --states=all -o '%k|%C|%m|%b|%T' >"$WORK/jobs.txt"

"$PY" - "$WORK/run" "$WORK/snakemake.log" "$WORK/jobs.txt" "$WORK/planned.json" "$WORK/failed_once" <<'EOF'
import csv
import json
import re
import sys
from pathlib import Path

run, log = Path(sys.argv[1]), Path(sys.argv[2]).read_text()
planned, failed_once = json.loads(Path(sys.argv[4]).read_text()), Path(sys.argv[5])
results = run / "results"
with open(results / "tables" / "recall.tsv") as handle:
    rows = list(csv.DictReader(handle, delimiter="\t"))
got = [(r["method"], r["size"], r["seed"]) for r in rows]
methods = ["contrastive", "optical", "optical_pooled", "pooled"]
assert got == [(m, size, "0") for m in methods for size in ("0", "32", "64")], got
assert all(0.0 <= float(r["recall_at_50"]) <= 1.0 for r in rows), rows
assert (results / "plots" / "recall_vs_n.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
# Every job went through SLURM in the submissions the dry run planned (group jobs and ungrouped jobs),
# plus the one retry of the group whose training was made to fail; every SLURM log kept.
submitted = re.findall(r"submitted with SLURM jobid (\d+)", log)
assert len(submitted) == planned["submissions"] + 1, (len(submitted), planned["submissions"])
assert planned["group_jobs"] >= 4 and planned["ungrouped_jobs"] >= 1, planned
logged = {p.name for p in (run / ".snakemake" / "slurm_logs").iterdir()}
assert any(name.startswith("group_student_ny_seed0") for name in logged) and "rule_correlate" in logged, logged
# The retry: one training exited after its checkpoint of step 2; its group job failed, was submitted
# again (attempt 2), and the training resumed there.
checkpoint = run / failed_once.read_text()  # results/train/<language>/<method>/seed<s>/n<N>/checkpoint.pt
parts = checkpoint.parent.parts
train_log = run / "results" / "logs" / Path(*parts[parts.index("train"):]).with_suffix(".log")
assert "Trying to restart job" in log, "no retry"
assert "resumed from checkpoint" in train_log.read_text() and "at step 2 " in train_log.read_text(), train_log
assert not checkpoint.exists()  # discarded once the student was saved
# The profile's set-threads and set-resources reached sbatch: the student group asked for the CI
# overlay's 2 CPUs and no GPU (train: gpu=0); every job completed but the failed attempt (which squeue
# may no longer list: it keeps finished jobs for MinJobAge, 300 s).
jobs = [line.split("|") for line in Path(sys.argv[3]).read_text().splitlines() if line.strip()]
student = [j for j in jobs if j[0].startswith("rule_student_ny_seed0")]
assert student and all(j[1] == "2" and j[3] in ("N/A", "") for j in student), student
assert [j[4] for j in student].count("COMPLETED") == 1, student
assert all(j[4] == "COMPLETED" or (j in student and j[4] == "FAILED") for j in jobs), jobs
print(f"slurm_e2e: recall.tsv rows {got}; {len(submitted)} SLURM submissions "
      f"({planned['submissions']} planned + 1 retry); {sorted(logged)}")
EOF
say "passed"
