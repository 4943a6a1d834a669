"""Students are trained as they are scored (issue: targets = the scoring vector).

- the vector the losses train (``StudentOutputs.pooled``) is the vector the search scores
  (``encode_queries``), for ``cls`` and ``mean`` pooling, from token ids and from cached prefix states;
- the token transport includes the token(s) that vector is read from, on both sides, and its gradient
  reaches them;
- the teacher's counterpart of a query–passage pair is the passage as the index encodes it
  (``teacher.passage_format``), and so are the contrastive arm's passages;
- a retry after running out of memory keeps the effective batch by accumulation, or stops (in-batch
  negatives) naming the setting to lower.
"""

import dataclasses
import json

import numpy as np
import pytest
import torch

from swimscale.model import (
    METHODS,
    MicroBatchError,
    StudentEncoder,
    StudentModel,
    TeacherEncoder,
    TeacherOnTheFly,
    TextQueries,
    TrainingBatch,
    build_teacher_cache,
    check_micro_batch,
    counterpart,
    encode_queries,
    encode_query_states,
    encode_texts,
    load_encoder,
    read_passages,
    train_student,
)
from tests.model.bible import TEACHER, records, teacher_settings, train_settings

POOLINGS = ["cls", "mean"]
QUERIES = ["Pachiyambi Mulungu analenga kumwamba ndi dziko lapansi.", "Yesu analira.",
           "Ndipo dziko lapansi linali lopanda maonekedwe, ndi lopanda kanthu; ndipo mdima unali pa nkhope ya madzi."]
FORMAT = "{title} | {text}"


@pytest.fixture(scope="module")
def tokenizer_and_model():
    torch.set_num_threads(1)
    return load_encoder(TEACHER, torch.device("cpu"))


def student_of(trainable_layers):
    return StudentModel(load_encoder(TEACHER, torch.device("cpu"))[1], trainable_layers, trainable_layers is not None,
                        0.0)


@pytest.mark.parametrize("pooling", POOLINGS)
@pytest.mark.parametrize("trainable_layers", [None, 1])
def test_the_trained_vector_is_the_scored_vector(tokenizer_and_model, pooling, trainable_layers):
    tokenizer, model = tokenizer_and_model
    teacher = teacher_settings(pooling=pooling, normalize=False, batch_size=2)
    train = train_settings(max_length=32, trainable_layers=trainable_layers,
                           freeze_embeddings=trainable_layers is not None)
    student = student_of(trainable_layers)
    student.eval()  # no dropout: the same forward in both paths
    ids = [f"q{i}" for i in range(len(QUERIES))]
    inputs = (encode_query_states(tokenizer, student, ids, QUERIES, teacher, train) if student.cached
              else TextQueries(tokenizer, train.max_length, dict(zip(ids, QUERIES))))
    outputs = StudentEncoder(student, inputs, pooling)([{"_id": i} for i in ids])
    scored = encode_queries(student, inputs, ids, teacher)
    np.testing.assert_allclose(outputs.pooled.detach().numpy(), scored, rtol=1e-5, atol=1e-5)
    # The transport covers the token(s) the scored vector is read from.
    batch = inputs.batch(ids, "cpu")
    attended = batch["attention_mask"].bool()
    transported = outputs.transport_mask.bool()
    if pooling == "cls":
        assert transported[:, 0].all()
        content = batch["transport_mask"].bool()
        assert torch.equal(transported, content | (torch.arange(attended.shape[1]) == 0))
    else:
        assert torch.equal(transported, attended)  # every token the mean reads, [CLS] and [SEP] included
    # And the transport's gradient reaches the scored vector's token(s), never the padding.
    leaf = outputs.tokens.detach().requires_grad_()
    cache = build_teacher_cache(TeacherEncoder(tokenizer, model, teacher),
                                [{"_id": i, "query": q, "query_en": "In the beginning God created."}
                                 for i, q in zip(ids, QUERIES)], passages=False)
    loss_fn = METHODS["optical"].from_config(train_settings(), "balanced", teacher)
    loss, _ = loss_fn(dataclasses.replace(outputs, tokens=leaf), TrainingBatch([{"_id": i} for i in ids], cache, "cpu"))
    loss.backward()
    moved = leaf.grad.abs().sum(-1) > 0
    assert moved[:, 0].all() and torch.equal(moved, transported)


@pytest.mark.parametrize("pooling", POOLINGS)
def test_the_teachers_side_transports_its_scoring_token_too(tokenizer_and_model, pooling):
    tokenizer, model = tokenizer_and_model
    encoder = TeacherEncoder(tokenizer, model, teacher_settings(pooling=pooling))
    hidden, mask, pooled = encoder(["In the beginning God created the heaven.", "Jesus wept."], "cpu")
    assert mask[:, 0].eq(1).all()  # [CLS]
    lengths = mask.sum(1).tolist()
    with_specials = [len(tokenizer(t)["input_ids"]) for t in ["In the beginning God created the heaven.", "Jesus wept."]]
    assert lengths == ([n - 1 for n in with_specials] if pooling == "cls" else with_specials)  # [SEP] for mean only
    if pooling == "mean":  # the pooled target is the mean of exactly the transported tokens
        expected = (hidden * mask[..., None]).sum(1) / mask.sum(1, keepdim=True)
        torch.testing.assert_close(pooled, expected, rtol=1e-5, atol=1e-5)


def test_the_counterpart_of_a_passage_is_the_text_the_index_encodes(tmp_path, tokenizer_and_model):
    tokenizer, model = tokenizer_and_model
    docs = [{"docid": "d1", "title": "Genesis", "text": "In the beginning God created the heaven and the earth."},
            {"docid": "d2", "title": "", "text": "Jesus wept."}]
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text("".join(json.dumps(d) + "\n" for d in docs))
    _, indexed = read_passages(corpus, FORMAT)
    pairs = [{"_id": f"r{i}", "query": q, "title": d["title"], "text": d["text"]} for i, (q, d) in enumerate(zip(QUERIES, docs))]
    assert [counterpart(r, FORMAT) for r in pairs] == indexed == ["Genesis | " + docs[0]["text"], "Jesus wept."]
    translation = {**pairs[0], "query_en": "In the beginning"}
    assert counterpart(translation, FORMAT) == "In the beginning"  # a translation is its own counterpart
    # The teacher's vectors of those counterparts, cached or on the fly, are the index's vectors.
    teacher = teacher_settings(passage_format=FORMAT, normalize=False, batch_size=2)
    index = encode_texts(tokenizer, model, indexed, teacher)
    encoder = TeacherEncoder(tokenizer, model, teacher)
    for view in (build_teacher_cache(encoder, pairs), TeacherOnTheFly(encoder)):
        np.testing.assert_allclose(view.pooled(pairs, "cpu").numpy(), index, rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(view.passages(pairs, "cpu").numpy(), index, rtol=1e-5, atol=1e-5)
    cache = build_teacher_cache(encoder, [translation])  # the contrastive arm's passage of a translation pair
    np.testing.assert_allclose(cache.passages([translation], "cpu").numpy(), index[:1], rtol=1e-5, atol=1e-5)


def test_an_oom_retry_keeps_the_effective_batch_or_stops_naming_the_setting():
    teacher = teacher_settings()
    optical = METHODS["optical"].from_config(train_settings(), "balanced", teacher)
    assert check_micro_batch(optical, 16, 4) == 4 and check_micro_batch(optical, 16, None) == 16
    assert check_micro_batch(optical, 8, 32) == 8
    contrastive = METHODS["contrastive"].from_config(train_settings(), "balanced", teacher)
    assert check_micro_batch(contrastive, 16, 16) == 16 and check_micro_batch(contrastive, 4, 16) == 4
    with pytest.raises(MicroBatchError, match=r"micro-batches of 8 .* Lower train\.batch_size"):
        check_micro_batch(contrastive, 16, 8)


def test_a_run_logs_its_accumulation_and_a_contrastive_run_refuses_to_split_its_batch():
    pairs = records(6)
    cfg = train_settings(budget="fixed", max_steps=2, batch_size=4, max_length=32, trainable_layers=1,
                         freeze_embeddings=True, dropout=0.0)
    teacher = teacher_settings(max_length=32, batch_size=8)
    _, log = train_student(pairs, teacher, cfg, "pooled", 0, checkpoint_every=0, checkpoint_minutes=0, micro_batch_size=2)
    assert (log["batch_size"], log["micro_batch_size"], log["accumulation_steps"]) == (4, 2, 2)
    assert (log["examples_seen"], log["passes"]) == (8, round(8 / 6, 4))
    with pytest.raises(MicroBatchError, match="train.batch_size"):
        train_student(pairs, teacher, cfg, "contrastive", 0, checkpoint_every=0, checkpoint_minutes=0, micro_batch_size=2)


def test_the_rules_micro_batch_never_splits_a_batch_with_in_batch_negatives():
    """swimscale.config.micro_batch (the train rule's resource, standard library) knows the same methods
    as the losses: a contrastive retry runs its whole batch again; the others halve theirs."""
    from swimscale.config import IN_BATCH_NEGATIVES, micro_batch
    from swimscale.model import METHODS

    assert IN_BATCH_NEGATIVES == {name for name, cls in METHODS.items() if cls.in_batch_negatives}
    assert [micro_batch("contrastive", 32, a) for a in (1, 2, 3)] == [32, 32, 32]
    assert [micro_batch("optical", 32, a) for a in (1, 2, 3, 7)] == [32, 16, 8, 1]
