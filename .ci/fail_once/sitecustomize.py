"""CI fault injection for .ci/slurm_e2e.sh: the first training job to write its second checkpoint exits
right after it, once, as a job killed mid-run (a lost node, a time limit) would. Its group job fails,
Snakemake submits the group again (`retries`, with `attempt` raised), and that training must resume
from the checkpoint it left. Active only in a `train.py` job and only when SWIMSCALE_CI_FAIL_ONCE
names the marker file to create (its content: the checkpoint's path); loaded through PYTHONPATH.
"""

import os
import sys

MARKER = os.environ.get("SWIMSCALE_CI_FAIL_ONCE")

if MARKER and sys.argv and sys.argv[0].endswith("train.py"):
    from swimscale.model import _checkpoint

    _save = _checkpoint.Checkpoints.save

    def save_then_fail_once(self, state, *args, **kwargs):
        _save(self, state, *args, **kwargs)
        if state["step"] < 2:
            return
        self.wait()  # a write in the background thread ends on disk before the job dies
        try:
            marker = os.open(MARKER, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            return  # another job failed already
        os.write(marker, str(self.path).encode())
        os.close(marker)
        print(f"fail_once: exiting after the checkpoint of step {state['step']}", file=sys.stderr, flush=True)
        os._exit(3)

    _checkpoint.Checkpoints.save = save_then_fail_once
