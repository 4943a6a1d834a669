"""One run per results folder: the lock names its holder, refuses a second run, reports a stale one."""

import json
import os
import socket
import subprocess
import sys

import pytest

from swimscale.formats import LockHeld, release_lock, take_lock


def test_taken_holds_host_pid_cwd_and_start_and_is_released(tmp_path):
    lock = tmp_path / "results" / "run.lock"
    holder = take_lock(lock)
    assert json.loads(lock.read_text()) == holder
    assert holder["host"] == socket.gethostname() and holder["pid"] == os.getpid()
    assert holder["cwd"] == os.getcwd() and holder["started"].endswith("Z")
    assert release_lock(lock) and not lock.exists()


def test_a_second_run_is_refused_naming_the_holder_and_cannot_release_it(tmp_path):
    lock = tmp_path / "run.lock"
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        lock.write_text(json.dumps({"host": socket.gethostname(), "pid": live.pid, "cwd": "/elsewhere",
                                    "started": "2026-01-01T00:00:00Z"}))
        with pytest.raises(LockHeld, match=rf"in use by the run of pid {live.pid} .* in /elsewhere; wait"):
            take_lock(lock)
        assert not release_lock(lock) and lock.exists()  # a refused run's onerror leaves the holder's lock
    finally:
        live.kill()
        live.wait()


def test_a_stale_lock_is_reported_with_the_command_that_clears_it(tmp_path):
    lock = tmp_path / "run.lock"
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    lock.write_text(json.dumps({"host": socket.gethostname(), "pid": dead.pid, "cwd": "/x", "started": "t"}))
    with pytest.raises(LockHeld, match=rf"stale lock .* no longer running; .* rm '{lock}'"):
        take_lock(lock)
