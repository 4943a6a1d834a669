"""What a training run must honour, seen through ``train_student`` and its log only.

* τ reaches the transport: on a passage pool the first update's transport cost depends on τ (the
  semi-relaxed plan), on a translation pool it does not, and a large τ gives the balanced cost.
* A checkpoint resumes only its own run: one of another sample, method or teacher is never used.

Both run the bundled MiniLM teacher on five Bible verses for a step or a few.
"""

import pytest
import torch

import dataclasses

from swimscale.model import TeacherEncoder, build_teacher_cache, load_encoder, train_student
from tests.model.bible import TEACHER, teacher_settings, train_settings

# The teacher as these runs read it: counterparts up to 32 tokens, no-gradient passes in batches of 5.
SETTINGS = teacher_settings(max_length=32, batch_size=5)
VERSES = [
    ("Pachiyambi Mulungu adalenga kumwamba ndi dziko lapansi.", "In the beginning God created the heaven and the earth."),
    ("Ndipo anati Mulungu, Kuyere; ndipo kunayera.", "And God said, Let there be light: and there was light."),
    ("Yesu analira.", "Jesus wept."),
    ("Ndipo Mulungu anapanga thambo.", "And God made the firmament."),
    ("Mulungu ndiye chikondi.", "God is love."),
]
TAIL = " And the evening and the morning were the first day, and it was so."
PASSAGES = [{"_id": f"r{i}", "query": q, "text": t + TAIL} for i, (q, t) in enumerate(VERSES)]
TRANSLATIONS = [{**r, "query_en": r["text"]} for r in PASSAGES]  # the same English tokens, balanced


def train_config(**overrides):
    """A fixed budget of `max_steps` updates (no dev set), dropout off, the schema's other defaults."""
    return train_settings(**{"max_length": 32, "budget": "fixed", "dropout": 0.0, **overrides})


@pytest.fixture(scope="module")
def teacher():
    torch.set_num_threads(1)
    return load_encoder(TEACHER, torch.device("cpu"))


def first_transport_cost(records, tau):
    """The transport cost of the first update (before any step: the student is the teacher)."""
    cfg = train_config(batch_size=5, max_steps=1, eps=0.1, sinkhorn_iters=500, tau=tau)
    _, log = train_student(records, SETTINGS, cfg, "optical", 0, checkpoint_every=0, checkpoint_minutes=0)
    return log["transport"], log["parts"][0]["ot_loss"]


def test_training_transports_passages_semi_relaxed_with_the_runs_tau(teacher):
    tokenizer, model = teacher
    encoder = TeacherEncoder(tokenizer, model, SETTINGS)
    passages = build_teacher_cache(encoder, PASSAGES)
    translations = build_teacher_cache(encoder, TRANSLATIONS)
    assert torch.equal(passages.tokens, translations.tokens)  # one English side, two transports

    small = first_transport_cost(PASSAGES, 0.01)
    large = first_transport_cost(PASSAGES, 1000.0)
    balanced = [first_transport_cost(TRANSLATIONS, tau) for tau in (0.01, 1000.0)]
    assert small[0] == large[0] == "semi_relaxed" and balanced[0][0] == "balanced"
    assert balanced[0] == balanced[1]  # τ is not used for translations
    assert large[1] == pytest.approx(balanced[0][1], abs=2e-3)  # τ → ∞ is the balanced problem
    assert small[1] < large[1] - 0.003  # a small τ lets the query skip the passage's tail (0.966 against 0.973)


def test_a_checkpoint_of_another_sample_method_or_teacher_is_never_resumed(tmp_path, teacher):
    tokenizer, _ = teacher
    cfg = train_config(batch_size=2, max_steps=5, lr=1e-4)
    checkpoint = tmp_path / "checkpoint.pt"
    # A run leaves its last checkpoint (step 4 of 5; the workflow deletes it once the student is saved).
    train_student(TRANSLATIONS, SETTINGS, cfg, "optical", 5, checkpoint=checkpoint, checkpoint_every=2, checkpoint_minutes=0)
    assert checkpoint.exists()

    # Another teacher: the same architecture with one weight changed, from a local directory.
    other_teacher = tmp_path / "other-teacher"
    _, copy = load_encoder(TEACHER, torch.device("cpu"))
    with torch.no_grad():
        copy.embeddings.word_embeddings.weight[100] += 1.0
    copy.save_pretrained(other_teacher)
    tokenizer.save_pretrained(other_teacher)
    other_sample = TRANSLATIONS[:4] + [{**TRANSLATIONS[4], "_id": "r9"}]  # as many records, one other

    def resumed_from(records, teacher_spec, method="optical"):
        teacher = dataclasses.replace(SETTINGS, model=teacher_spec)
        _, log = train_student(records, teacher, cfg, method, 5, checkpoint=checkpoint,
                               checkpoint_every=0, checkpoint_minutes=0)  # 0: the probe writes no checkpoint of its own
        return log["resumed_from_step"]

    assert resumed_from(other_sample, TEACHER) == 0
    assert resumed_from(TRANSLATIONS, TEACHER, method="contrastive") == 0
    assert resumed_from(TRANSLATIONS, str(other_teacher)) == 0
    assert resumed_from(TRANSLATIONS, TEACHER) == 4  # its own run does resume
