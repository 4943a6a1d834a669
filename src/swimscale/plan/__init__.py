"""Planning the study's cost before launch (`python -m swimscale plan`): counts from the config, time
from one row of the device table (devices.tsv). Standard library only: the DAG side may import it."""

from swimscale.plan._costs import (TOKEN_METHODS, Run, forward_flops, language_states,
                                   language_states_files, parameters, pool_pairs, run_state_bytes, runs, state_bytes,
                                   teacher_states_input, updates)
from swimscale.plan._devices import DEVICES_TSV, Device, read_devices, write_measured_row
from swimscale.plan._plan import per_update, plan, update_wait_s
from swimscale.plan._report import describe

__all__ = ["DEVICES_TSV", "TOKEN_METHODS", "Device", "Run", "describe", "forward_flops",
           "language_states", "language_states_files", "parameters", "per_update", "plan", "pool_pairs", "read_devices",
           "run_state_bytes", "runs", "state_bytes", "teacher_states_input", "update_wait_s", "updates",
           "write_measured_row"]
