"""Public tests for evaluate: run them from the notebook with check("evaluate"). evaluate uses your cross_entropy
and accuracy, so check those first. The hidden tests decide the grade."""

import torch

X = torch.tensor([[1.0, 0.0], [0.0, 1.0], [-1.0, -1.0], [2.0, 1.0]])
Y = torch.tensor([0, 1, 2, 1])


def _model():
    model = torch.nn.Linear(2, 3)
    with torch.no_grad():
        model.weight.copy_(torch.tensor([[1.0, 0.0], [0.0, 1.0], [-1.0, -1.0]]))
        model.bias.zero_()
    return model


def test_loss_and_accuracy(student):
    """returns (mean cross-entropy, accuracy) as Python floats"""
    model = _model()
    with torch.no_grad():
        logits = model(X)
    expected_loss = torch.nn.functional.cross_entropy(logits, Y).item()
    out = student(model, X, Y)
    assert isinstance(out, tuple) and len(out) == 2, f"evaluate should return a pair (loss, accuracy), got {out!r}"
    loss, acc = out
    assert type(loss) is float and type(acc) is float, "both the loss and the accuracy should be Python floats"
    assert abs(loss - expected_loss) < 1e-5, f"expected the loss {expected_loss:.5f}, got {loss:.5f}"
    assert abs(acc - 0.75) < 1e-9, f"3 of the 4 points are right: expected the accuracy 0.75, got {acc}"


def test_mode_restored_and_no_gradients(student):
    """the model is left in the mode it was in, and no .grad appears"""
    for training in (True, False):
        model = _model()
        model.train(training)
        student(model, X, Y)
        assert model.training == training, f"the model was in {'training' if training else 'evaluation'} mode before"
        assert all(p.grad is None for p in model.parameters()), "a parameter got a .grad: use torch.no_grad()"


def test_in_evaluation_mode(student):
    """dropout is switched off while evaluating: the same answer every time"""
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(2, 32), torch.nn.Dropout(0.5), torch.nn.Linear(32, 3))
    model.train()
    results = {student(model, X, Y) for _ in range(5)}
    assert len(results) == 1, "evaluate gave different answers: call model.eval() before computing"
    assert model.training, "the model was in training mode before evaluate: put it back"
