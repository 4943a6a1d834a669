"""The teacher's states of a language's pool, computed once (the teacher_states rule) and read by every
run of the language: the same loss as the per-run cache and as the teacher on the fly, only the run's
own records loaded, and a damaged or foreign file refused, naming it."""

import dataclasses

import pytest
import torch

from swimscale.errors import InputError
from swimscale.formats import write_sidecar
from swimscale.model import TeacherStates, TeacherStatesError, resolve_teacher_tokens
from swimscale.model._train import _Training
from tests.model.bible import records, teacher_settings, train_settings
from tests.model.states import write_states

TEACHER = teacher_settings(max_length=64, batch_size=8)
POOL = records(30)


@pytest.fixture(scope="module")
def states(tmp_path_factory):
    torch.set_num_threads(1)
    return write_states(tmp_path_factory.mktemp("states") / "ny.safetensors", TEACHER, POOL)


def first_loss(mode, method, states=None, sample=POOL[3:27]):
    cfg = train_settings(batch_size=4, max_length=64, budget="fixed", max_steps=2, teacher_tokens=mode,
                         trainable_layers=None, freeze_embeddings=False, dropout=0.0)
    run = _Training(list(sample), TEACHER, cfg, 0, method, None, None, states)
    assert run.log["teacher_tokens"] == mode
    return [run.step(), run.step()]


@pytest.mark.parametrize("method", ["optical_pooled", "contrastive"])
def test_cached_states_give_the_loss_of_recomputed_ones_and_of_the_teacher_on_the_fly(states, method):
    cached = first_loss("language", method, states)
    assert cached == pytest.approx(first_loss("precompute", method), rel=1e-5)
    assert cached == pytest.approx(first_loss("on_the_fly", method), rel=1e-5)


def test_a_run_loads_the_rows_of_its_own_records_in_their_order(states):
    sample = [POOL[7], POOL[2], POOL[19]]
    loaded = TeacherStates.load(states, TEACHER, "cpu", [r["_id"] for r in sample])
    everything = TeacherStates.load(states, TEACHER, "cpu")
    assert len(loaded.index) == 3 and len(everything.index) == len(POOL)
    for mine, full in zip(loaded.batch(sample, "cpu"), everything.batch(sample, "cpu")):
        assert torch.equal(mine, full)
    assert torch.equal(loaded.passages(sample, "cpu"), everything.passages(sample, "cpu"))
    with pytest.raises(TeacherStatesError, match="not in its pool"):
        TeacherStates.load(states, TEACHER, "cpu", ["r-unknown"])


def test_the_file_is_compact_and_counted_in_its_sidecar(states):
    import json

    sidecar = json.loads(states.with_name(states.name + ".sidecar.json").read_text())
    assert sidecar["count"] == len(POOL)
    loaded = TeacherStates.load(states, TEACHER, "cpu")
    # only the tokens the loss reads: fewer rows than the padded batches of the pool would hold
    assert loaded.tokens.shape[0] == loaded.starts[-1] < len(POOL) * TEACHER.max_length


def test_a_cut_or_edited_file_is_refused_naming_it(states, tmp_path):
    data = states.read_bytes()
    cut = tmp_path / "cut.safetensors"
    cut.write_bytes(data[: len(data) // 2])
    (tmp_path / "cut.safetensors.sidecar.json").write_text(states.with_name(states.name + ".sidecar.json").read_text())
    with pytest.raises(InputError, match=f"{cut}.*size"):
        TeacherStates.load(cut, TEACHER, "cpu")
    edited = tmp_path / "edited.safetensors"
    edited.write_bytes(data[:-8] + bytes(8))
    (tmp_path / "edited.safetensors.sidecar.json").write_text(states.with_name(states.name + ".sidecar.json").read_text())
    with pytest.raises(InputError, match=f"{edited}.*SHA-256"):
        TeacherStates.load(edited, TEACHER, "cpu")
    write_sidecar(cut)  # a sidecar that agrees with the cut file: safetensors itself refuses it
    with pytest.raises(TeacherStatesError, match=f"{cut}: unreadable"):
        TeacherStates.load(cut, TEACHER, "cpu")


def test_states_of_another_teacher_setting_are_refused(states):
    with pytest.raises(TeacherStatesError, match="teacher.max_length"):
        TeacherStates.load(states, dataclasses.replace(TEACHER, max_length=32), "cpu")


def test_auto_reads_the_language_states_on_cuda_only_and_language_needs_a_file():
    cuda, cpu = torch.device("cuda"), torch.device("cpu")
    assert resolve_teacher_tokens("auto", cpu, language=True, run_fits=True) == "precompute"
    assert resolve_teacher_tokens("auto", cuda, language=True) == "language"
    assert resolve_teacher_tokens("auto", cuda, run_fits=True) == "precompute"
    assert resolve_teacher_tokens("auto", cuda) == "on_the_fly"
    cfg = train_settings(batch_size=4, max_length=64, budget="fixed", max_steps=1, teacher_tokens="language")
    with pytest.raises(ValueError, match="teacher_states rule"):
        _Training(POOL[:8], TEACHER, cfg, 0, "pooled", None, None, None)


def test_a_training_job_passes_the_language_states_to_each_student(states, tmp_path):
    """train_and_search (one student of a training job, start to end) reads the states it is given."""
    import json

    from swimscale.config import SearchSettings, Settings, defaults
    from swimscale.model import train_and_search

    cfg = train_settings(batch_size=4, max_length=64, budget="fixed", max_steps=2, teacher_tokens="language")
    settings = Settings(TEACHER, cfg, SearchSettings.from_section(defaults("search")))
    outputs = {"student": tmp_path / "student.safetensors", "train_log": tmp_path / "train_log.json"}
    log = train_and_search(POOL[:8], settings, "optical", 0, 8, dev=None, outputs=outputs, tests={},
                           checkpoint=tmp_path / "checkpoint.pt", checkpoint_every=0, checkpoint_minutes=0,
                           micro_batch_size=None, dtype=None, teacher_states=states)
    assert log["teacher_tokens"] == "language" and json.loads(outputs["train_log"].read_text())["steps"] == 2
