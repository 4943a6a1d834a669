"""swimscale.model.shared_encoders: inside it a model is read once, and each load is a fresh copy equal
to a load of its own, drawing no random numbers (a training job of several students builds each student
from it, and each must equal the student of a job of its own)."""

import torch

from swimscale.model import load_encoder, shared_encoders
from tests.model.bible import TEACHER


def test_a_shared_load_is_a_fresh_copy_equal_to_a_load_of_its_own():
    cpu = torch.device("cpu")
    _, alone = load_encoder(TEACHER, cpu)
    with shared_encoders():
        torch.manual_seed(0)
        tokenizer, first = load_encoder(TEACHER, cpu)
        draw = torch.rand(1)
        with torch.no_grad():
            next(first.parameters()).add_(1.0)  # training the first student changes only its copy
        torch.manual_seed(0)
        again_tokenizer, second = load_encoder(TEACHER, cpu)
        assert torch.equal(torch.rand(1), draw)  # the copy drew no random numbers, as a load draws none
        assert again_tokenizer is tokenizer
    expected = alone.state_dict()
    assert all(torch.equal(value, expected[name]) for name, value in second.state_dict().items())
    assert not torch.equal(next(first.parameters()), next(second.parameters()))
    assert not second.training
