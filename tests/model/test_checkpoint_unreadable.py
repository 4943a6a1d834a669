"""A checkpoint that cannot be read is set aside (``checkpoint.pt.bad``, with a warning naming it) and
training starts over, instead of failing every retry; a job killed while checkpointing leaves a
partial file that the next start removes."""

from __future__ import annotations

import argparse
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch

from swimscale.model import train_student
from swimscale.model._checkpoint import Checkpoints
from tests.model.bible import teacher_settings, train_settings

ROOT = Path(__file__).resolve().parents[2]
RECORDS = [
    {"_id": f"r{i}", "query": q, "text": t, "query_en": t}
    for i, (q, t) in enumerate([
        ("Yesu analira.", "Jesus wept."),
        ("Mulungu ndiye chikondi.", "God is love."),
        ("Ndipo Mulungu anapanga thambo.", "And God made the firmament."),
        ("Ndipo anati Mulungu, Kuyere; ndipo kunayera.", "And God said, Let there be light: and there was light."),
    ])
]


def checkpoints(tmp_path, key="run-a"):
    return Checkpoints(tmp_path / "checkpoint.pt", 1, key)


def test_a_checkpoint_cut_short_is_moved_aside_with_a_warning(tmp_path):
    ckpt = checkpoints(tmp_path)
    ckpt.save({"step": 3, "weights": torch.ones(1000)})
    data = ckpt.path.read_bytes()
    ckpt.path.write_bytes(data[: len(data) // 2])  # e.g. a copy cut short, a full disk
    with pytest.warns(UserWarning, match=r"checkpoint .*checkpoint\.pt cannot be read .*moved it aside to "
                                         r".*checkpoint\.pt\.bad and training starts over"):
        assert ckpt.load() is None
    assert not ckpt.path.exists() and ckpt.bad.read_bytes() == data[: len(data) // 2]
    assert ckpt.load() is None  # the retry finds no checkpoint: it does not fail again


def test_a_pickled_checkpoint_is_not_unpickled_and_the_warning_does_not_advise_it(tmp_path):
    ckpt = checkpoints(tmp_path)
    torch.save({"fingerprint": "run-a", "args": argparse.Namespace(lr=1.0)}, ckpt.path)
    with pytest.warns(UserWarning) as caught:
        assert ckpt.load() is None
    message = str(caught[0].message)
    assert "pickled Python objects" in message and str(ckpt.bad) in message
    assert "weights_only" not in message
    assert ckpt.bad.exists() and not ckpt.path.exists()


def test_a_readable_checkpoint_of_another_run_is_ignored_not_moved(tmp_path):
    checkpoints(tmp_path, key="run-b").save({"step": 1})
    assert checkpoints(tmp_path).load() is None
    assert checkpoints(tmp_path).path.exists() and not checkpoints(tmp_path).bad.exists()
    assert checkpoints(tmp_path, key="run-b").load()["step"] == 1


def test_a_job_killed_while_checkpointing_leaves_the_last_checkpoint_and_the_next_start_cleans_up(tmp_path):
    """SIGKILL after the new checkpoint is written to its partial file, before the rename."""
    ckpt = checkpoints(tmp_path)
    ckpt.save({"step": 2})
    child = textwrap.dedent(f"""
        import os, signal
        from pathlib import Path
        import swimscale.model._checkpoint as checkpoint
        checkpoint.os.replace = lambda *a: os.kill(os.getpid(), signal.SIGKILL)
        checkpoint.Checkpoints(Path({str(ckpt.path)!r}), 1, "run-a").save({{"step": 4}})
    """)
    result = subprocess.run([sys.executable, "-c", child], env={"PYTHONPATH": str(ROOT / "src")}, timeout=300)
    assert result.returncode == -signal.SIGKILL
    assert ckpt.partial.exists()
    assert ckpt.load()["step"] == 2  # the last complete checkpoint
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoint.pt"]
    ckpt.discard()
    assert list(tmp_path.iterdir()) == []


def test_training_over_an_unreadable_checkpoint_starts_over_and_ends_as_an_uninterrupted_run(tmp_path):
    torch.set_num_threads(1)
    cfg = train_settings(batch_size=2, max_length=32, budget="fixed", max_steps=2, trainable_layers=1,
                         freeze_embeddings=True, dropout=0.0)
    teacher = teacher_settings(max_length=32, batch_size=4)
    reference, reference_log = train_student(RECORDS, teacher, cfg, "optical", 1, checkpoint_every=0, checkpoint_minutes=0)
    path = tmp_path / "checkpoint.pt"
    path.write_bytes(b"\x00not a checkpoint")
    with pytest.warns(UserWarning, match="cannot be read"):
        student, log = train_student(RECORDS, teacher, cfg, "optical", 1, checkpoint=path, checkpoint_every=1, checkpoint_minutes=0)
    assert log["resumed_from_step"] == 0 and log["loss"] == reference_log["loss"]
    assert all(torch.equal(a, b) for a, b in zip(student.model.state_dict().values(), reference.model.state_dict().values()))
    assert (tmp_path / "checkpoint.pt.bad").read_bytes() == b"\x00not a checkpoint"
