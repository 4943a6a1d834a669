"""Sidecars: written beside a derived file, and every way the file can differ from it refused with
one line naming the file, expected, found and the rebuild command."""

import json

import numpy as np
import pytest

from swimscale.formats import SidecarMismatch, check_sidecar, count_of, sidecar_path, write_sidecar
from swimscale.formats import _sidecar


def test_sidecar_holds_sha_size_and_count(tmp_path):
    path = tmp_path / "n3.jsonl"
    path.write_text('{"a": 1}\n\n{"a": 2}\n{"a": 3}\n')
    write_sidecar(path)
    record = json.loads(sidecar_path(path).read_text())
    assert record["size"] == path.stat().st_size and record["count"] == 3 and len(record["sha256"]) == 64
    check_sidecar(path, "auto")


def test_npy_rows_from_the_header(tmp_path):
    path = tmp_path / "corpus.npy"
    np.save(path, np.zeros((7, 4), dtype=np.float32))
    assert count_of(path) == 7
    (tmp_path / "x.faiss").write_bytes(b"IxFI")
    assert count_of(tmp_path / "x.faiss") is None  # no count for other formats


FAULTS = {
    "truncated": lambda p: p.write_bytes(p.read_bytes()[: len(p.read_bytes()) // 2]),
    "edited": lambda p: p.write_bytes(p.read_bytes().replace(b"1", b"7")),
    "empty": lambda p: p.write_bytes(b""),
    "wrong_count": lambda p: p.write_bytes(p.read_bytes() + p.read_bytes().splitlines(keepends=True)[0]),
    "deleted": lambda p: p.unlink(),
    "sidecar_deleted": lambda p: sidecar_path(p).unlink(),
}


@pytest.mark.parametrize("fault", FAULTS)
def test_every_fault_is_refused_naming_the_file_and_the_rebuild(tmp_path, fault):
    path = tmp_path / "sample.jsonl"
    path.write_text('{"a": 1}\n{"a": 2}\n')
    write_sidecar(path)
    FAULTS[fault](path)
    with pytest.raises(SidecarMismatch) as error:
        check_sidecar(path, "auto")
    message = str(error.value)
    assert "\n" not in message and message.startswith(str(path)) and f"rm '{path}' && snakemake" in message


def test_same_size_edit_is_caught_by_the_sha_and_expected_found_are_said(tmp_path):
    path = tmp_path / "qrels.txt"
    path.write_text("q1 0 d1 1\n")
    write_sidecar(path)
    path.write_text("q1 0 d2 1\n")
    with pytest.raises(SidecarMismatch, match=r"SHA-256 differs .*expected [0-9a-f]+…, found [0-9a-f]+…"):
        check_sidecar(path, "auto")


def test_above_the_limit_only_full_reads_the_sha(tmp_path, monkeypatch):
    path = tmp_path / "flat_ip.faiss"
    path.write_bytes(b"abcd")
    write_sidecar(path)
    path.write_bytes(b"abce")
    monkeypatch.setattr(_sidecar, "SHA_LIMIT", 2)
    check_sidecar(path, "auto")  # size and count agree; the SHA-256 is not read above the limit
    with pytest.raises(SidecarMismatch):
        check_sidecar(path, "full")


def test_a_folder_is_checked_file_by_file(tmp_path):
    folder = tmp_path / "runs"
    folder.mkdir()
    (folder / "a.trec").write_text("q1 Q0 d1 1 1.0 t\n")
    (folder / "b.trec").write_text("q1 Q0 d2 1 1.0 t\n")
    write_sidecar(folder)
    check_sidecar(folder, "auto")
    (folder / "b.trec").write_text("q1 Q0 d2 1 1.0 t\nq1 Q0 d3 2 0.5 t\n")
    with pytest.raises(SidecarMismatch, match="b.trec"):
        check_sidecar(folder, "auto")
