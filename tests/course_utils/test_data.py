"""course_utils.data: the seed data set and model, with the numbers the hidden tests rely on."""

import numpy as np
import pytest
import torch

from course_utils import LineData, make_line_data, make_model, to_tensors


def test_seed_numbers():
    data = make_line_data(seed=42, n_samples=5000)
    assert isinstance(data, LineData)
    assert data.a == pytest.approx(-0.501840, abs=1e-6)
    assert data.b == pytest.approx(1.802857, abs=1e-6)
    assert type(data.a) is float and type(data.b) is float
    design = np.stack([data.x.astype(np.float64), np.ones(len(data.x))], axis=1)
    best_a, best_b = np.linalg.lstsq(design, data.y_noisy.astype(np.float64), rcond=None)[0]
    assert best_a == pytest.approx(-0.517584, abs=1e-6)
    assert best_b == pytest.approx(1.808212, abs=1e-6)


def test_arrays_are_float32_on_minus_pi_to_pi():
    data = make_line_data()
    for array in (data.x, data.y_noisy, data.y_true):
        assert array.dtype == np.float32 and array.shape == (5000,)
    assert data.x[0] == np.float32(-np.pi) and data.x[-1] == np.float32(np.pi)
    np.testing.assert_allclose(data.y_true, data.a * data.x + data.b, rtol=1e-6)


def test_same_numbers_as_the_seed_notebook_and_global_state_untouched():
    state = np.random.get_state()
    try:
        np.random.seed(42)  # the seed notebook's recipe, on NumPy's global generator
        a, b = np.random.uniform(low=-2.0, high=2.0, size=2)
        x = np.linspace(-np.pi, np.pi, 5000, dtype=np.float32)
        y_true = float(a) * x + float(b)
        y_noisy = y_true + np.random.normal(size=y_true.shape).astype(np.float32)
        marker = np.random.random()
        np.random.seed(42)
        np.random.uniform(size=2), np.random.normal(size=5000)
        data = make_line_data(seed=42)
        assert np.random.random() == marker, "make_line_data changed NumPy's global random state"
    finally:
        np.random.set_state(state)
    assert (data.a, data.b) == (float(a), float(b))
    assert np.array_equal(data.x, x) and np.array_equal(data.y_noisy, y_noisy)


def test_other_seeds_and_sizes():
    assert make_line_data(seed=1).a != make_line_data(seed=2).a
    assert len(make_line_data(n_samples=17).x) == 17
    assert np.array_equal(make_line_data(seed=7).y_noisy, make_line_data(seed=7).y_noisy)


def test_to_tensors_shapes_and_copies():
    data = make_line_data()
    xx, yy = to_tensors(data)
    assert xx.shape == (5000, 1) and yy.shape == (5000,)
    assert xx.dtype == yy.dtype == torch.float32
    xx += 1  # the data set itself is not changed
    assert data.x[0] == np.float32(-np.pi)


def test_make_model_is_the_seed_model_and_keeps_torch_state():
    torch.manual_seed(0)
    expected_next = torch.rand(3)
    torch.manual_seed(0)
    model = make_model(seed=42)
    assert torch.equal(torch.rand(3), expected_next), "make_model changed torch's global random state"
    torch.manual_seed(42)
    reference = torch.nn.Sequential(torch.nn.Linear(1, 1), torch.nn.Flatten(0, 1))
    for mine, theirs in zip(model.parameters(), reference.parameters(), strict=True):
        assert torch.equal(mine, theirs)
    assert [p.item() for p in model.parameters()] == pytest.approx([0.7645385, 0.8300079], abs=1e-6)
    assert model(torch.zeros(7, 1)).shape == (7,)
