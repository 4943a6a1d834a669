"""The one atomic write: a reader sees the old file or the whole new one, never a mix; a writer that
raises leaves the old file intact and no partial file; a killed one leaves only the partial file,
which the next write replaces."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from swimscale.formats import atomic_open, atomic_path, partial_path, write_text_atomic

ROOT = Path(__file__).resolve().parents[2]


def names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_text_and_binary_writes_replace_the_file(tmp_path):
    path = tmp_path / "out.txt"
    write_text_atomic(path, "old\n")
    with atomic_open(path) as handle:
        handle.write("ìbéèrè\n")
    assert path.read_bytes() == "ìbéèrè\n".encode("utf-8")
    with atomic_open(path, "wb") as handle:
        handle.write(b"\x00\xff")
    assert path.read_bytes() == b"\x00\xff" and names(tmp_path) == ["out.txt"]


def test_np_save_to_the_open_file_and_torch_save_to_the_partial_path(tmp_path):
    array = np.arange(12, dtype=np.float32).reshape(3, 4)
    with atomic_open(tmp_path / "a.npy", "wb") as handle:
        np.save(handle, array)
    np.testing.assert_array_equal(np.load(tmp_path / "a.npy"), array)
    torch = pytest.importorskip("torch")
    with atomic_path(tmp_path / "m.pt") as partial:
        assert partial == tmp_path / "m.pt.partial"
        torch.save({"w": torch.ones(2)}, partial)
    assert torch.equal(torch.load(tmp_path / "m.pt", weights_only=True)["w"], torch.ones(2))
    assert names(tmp_path) == ["a.npy", "m.pt"]


@pytest.mark.parametrize("form", ["open", "path"])
def test_a_writer_that_raises_leaves_the_old_file_and_no_partial_file(tmp_path, form):
    path = tmp_path / "out.txt"
    path.write_text("old\n")
    with pytest.raises(OSError, match="disk full"):
        if form == "open":
            with atomic_open(path) as handle:
                handle.write("half of the new\n")
                raise OSError("disk full")
        else:
            with atomic_path(path) as partial:
                partial.write_text("half of the new\n")
                raise OSError("disk full")
    assert path.read_text() == "old\n" and names(tmp_path) == ["out.txt"]


def test_a_writer_that_raises_before_any_file_existed_leaves_none(tmp_path):
    with pytest.raises(ValueError, match="bad record"):
        with atomic_open(tmp_path / "pool.jsonl") as handle:
            handle.write("{}\n")
            raise ValueError("bad record")
    assert names(tmp_path) == []


def test_the_partial_file_is_synced_before_the_rename_and_the_folder_after(tmp_path, monkeypatch):
    events = []
    real_fsync, real_replace = os.fsync, os.replace
    monkeypatch.setattr(os, "fsync", lambda fd: events.append(("fsync", os.readlink(f"/proc/self/fd/{fd}")))
                        or real_fsync(fd))
    monkeypatch.setattr(os, "replace", lambda a, b: events.append(("replace", str(a))) or real_replace(a, b))
    write_text_atomic(tmp_path / "out.txt", "new\n")
    partial = str(tmp_path / "out.txt.partial")
    assert events == [("fsync", partial), ("replace", partial), ("fsync", str(tmp_path))]


def test_a_killed_writer_leaves_the_old_file_and_the_next_write_cleans_up(tmp_path):
    """SIGKILL between writing and renaming (no `finally` runs)."""
    path = tmp_path / "out.txt"
    write_text_atomic(path, "old\n")
    child = textwrap.dedent(f"""
        import os, signal
        from swimscale.formats import write_text_atomic
        os.replace = lambda *a: os.kill(os.getpid(), signal.SIGKILL)
        write_text_atomic({str(path)!r}, "new, never renamed\\n")
    """)
    result = subprocess.run([sys.executable, "-c", child], env={"PYTHONPATH": str(ROOT / "src")}, timeout=120)
    assert result.returncode == -signal.SIGKILL
    assert path.read_text() == "old\n" and partial_path(path).read_text() == "new, never renamed\n"
    write_text_atomic(path, "new\n")
    assert path.read_text() == "new\n" and names(tmp_path) == ["out.txt"]


def test_only_whole_file_modes(tmp_path):
    with pytest.raises(ValueError, match="mode 'w' or 'wb', not 'a'"):
        with atomic_open(tmp_path / "x", "a"):
            pass
    assert names(tmp_path) == []


# --- no room to write: one line, no partial file --------------------------------------------------

import errno as _errno  # noqa: E402

from swimscale.formats import WriteFailed, partial_path  # noqa: E402


@pytest.mark.parametrize("code", [_errno.ENOSPC, _errno.EDQUOT, _errno.EROFS])
def test_no_room_is_one_line_with_free_space_and_no_partial_file(tmp_path, code):
    target = tmp_path / "corpus.npy"
    target.write_text("old")
    with pytest.raises(WriteFailed) as error:
        with atomic_open(target, "wb") as handle:
            handle.write(b"partly")
            raise OSError(code, os.strerror(code))
    message = str(error.value)
    assert "\n" not in message and message.startswith(f"{target}: cannot write it")
    assert "MiB free" in message and "then run again" in message
    assert not partial_path(target).exists() and target.read_text() == "old"


def test_torch_stream_failure_is_said_the_same_way(tmp_path):
    target = tmp_path / "checkpoint.pt"
    with pytest.raises(WriteFailed, match="a full disk"):
        with atomic_path(target) as partial:
            partial.write_bytes(b"x")
            raise RuntimeError("[enforce fail at inline_container.cc:595] . PytorchStreamWriter failed writing file "
                               "data/0: file write failed")
    assert not partial_path(target).exists() and not target.exists()


def test_other_errors_pass_as_they_are(tmp_path):
    with pytest.raises(ValueError, match="bad"):
        with atomic_path(tmp_path / "x") as partial:
            partial.write_text("x")
            raise ValueError("bad")
    with pytest.raises(PermissionError):
        with atomic_path(tmp_path / "y"):
            raise PermissionError(_errno.EACCES, "denied")
