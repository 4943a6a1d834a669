"""swimscale.jobs.FinishedStudent: a group training job's copy of a finished student survives the
deletion of the job's outputs (what Snakemake does to a failed job), is restored under the same key only,
and costs no second copy on disk."""

import os

from swimscale.formats import write_sidecar
from swimscale.jobs import FinishedStudent


def make_outputs(root):
    """A student's outputs as a training job leaves them: two files and two folders of files."""
    outputs = {"student": root / "train/s/student.safetensors", "train_log": root / "train/s/train_log.json",
               "runs": root / "search/s", "metrics": root / "evaluate/s"}
    outputs["student"].parent.mkdir(parents=True)
    outputs["student"].write_bytes(b"\x00weights")
    outputs["train_log"].write_text('{"steps": 3}\n')
    for folder, name in ((outputs["runs"], "b.trec"), (outputs["metrics"], "b.json")):
        folder.mkdir(parents=True)
        (folder / name).write_text(f"{name}\n")
        write_sidecar(folder)
    return outputs


def contents(outputs):
    return {name: sorted((str(p.relative_to(path)), p.read_bytes()) for p in path.rglob("*") if p.is_file())
            if path.is_dir() else path.read_bytes() for name, path in outputs.items()}


def test_a_finished_student_is_restored_after_its_outputs_are_deleted(tmp_path):
    outputs = make_outputs(tmp_path)
    before = contents(outputs)
    folder = tmp_path / "train/s/finished"
    FinishedStudent(folder, outputs, "k1").save()
    assert os.stat(folder / "student").st_ino == os.stat(outputs["student"]).st_ino  # a hard link, no copy
    for path in outputs.values():  # the failed job's outputs, deleted
        FinishedStudent(path, {}, "").discard()
    assert not any(path.exists() for path in outputs.values())
    assert FinishedStudent(folder, outputs, "k1").restore()
    assert contents(outputs) == before  # sidecars inside the folders included
    FinishedStudent(folder, {}, "").discard()  # the job ended: the outputs stay
    assert not folder.exists() and contents(outputs) == before


def test_a_copy_under_another_key_or_unfinished_is_not_restored(tmp_path):
    outputs = make_outputs(tmp_path)
    folder = tmp_path / "train/s/finished"
    FinishedStudent(folder, outputs, "old settings").save()
    assert not FinishedStudent(folder, outputs, "new settings").restore()
    assert not folder.exists()  # the stale copy is gone
    FinishedStudent(folder, outputs, "k").save()
    (folder / FinishedStudent.KEY).unlink()  # killed while copying: the key is written last
    assert not FinishedStudent(folder, outputs, "k").restore()


def test_the_key_follows_the_inputs_as_recorded(tmp_path):
    sample = tmp_path / "n32.jsonl"
    sample.write_text('{"_id": "1"}\n')
    write_sidecar(sample)
    key = FinishedStudent.key_of({"seed": 0}, [sample])
    assert key == FinishedStudent.key_of({"seed": 0}, [sample])
    assert key != FinishedStudent.key_of({"seed": 1}, [sample])
    sample.write_text('{"_id": "2"}\n')
    write_sidecar(sample)  # the sample was made again, with other records
    assert key != FinishedStudent.key_of({"seed": 0}, [sample])
