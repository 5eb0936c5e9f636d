"""Conv2D: output sizes, border modes, gradients, the naive reference, the notes' worked example."""

import numpy as np
import pytest

from coursepkg.errors import ShapeError
from coursepkg.gradcheck import check_module
from coursepkg.nn import (
    Conv2D,
    Dense,
    Flatten,
    MaxPool2D,
    Sequential,
    Tanh,
    col2im,
    conv_output_size,
    feature_maps,
    im2col,
)
from coursepkg.nn.conv import padding_for
from coursepkg.nn.conv_reference import conv2d_backward_naive, conv2d_naive

MODES = ["valid", "same", "full", 1]


def random_conv(c_in, c_out, k, stride=1, padding="valid", seed=0):
    """A float64 Conv2D with random weights *and* biases (zero biases would hide bias bugs)."""
    layer = Conv2D(c_in, c_out, k, stride=stride, padding=padding, rng=seed).double()
    layer.b.data[:] = np.random.default_rng(seed + 1).standard_normal(c_out)
    return layer


# ------------------------------------------------------------------------- sizes and modes
@pytest.mark.parametrize("n, k", [(28, 5), (12, 5), (6, 3), (7, 2), (5, 4)])
def test_output_size_of_each_border_mode(n, k):
    assert conv_output_size(n, k, 1, "valid") == n - k + 1  # narrow: input − filter + 1
    assert conv_output_size(n, k, 1, "full") == n + k - 1  # every overlap: input + filter − 1
    assert conv_output_size(n, k, 1, "same") == (n if k % 2 else n + 1)  # k//2 zeros each side
    assert conv_output_size(n, k, 1, "half") == conv_output_size(n, k, 1, "same")
    assert conv_output_size(n, k, 2, 1) == (n + 2 - k) // 2 + 1


@pytest.mark.parametrize("padding", MODES)
@pytest.mark.parametrize("stride", [1, 2])
@pytest.mark.parametrize("k", [2, 3])
def test_layer_output_shape_follows_the_formula(padding, stride, k):
    layer = Conv2D(2, 3, k, stride=stride, padding=padding, rng=0)
    y = layer(np.zeros((4, 2, 7, 6), dtype=np.float32))
    expected = (4, 3, conv_output_size(7, k, stride, padding), conv_output_size(6, k, stride, padding))
    assert y.shape == expected == layer.output_shape((4, 2, 7, 6))


def test_padding_of_each_mode_and_bad_modes():
    assert [padding_for(m, 5) for m in ("valid", "same", "half", "full", 3)] == [0, 2, 2, 4, 3]
    with pytest.raises(ValueError, match="border mode"):
        padding_for("wide", 3)
    with pytest.raises(ValueError, match="does not fit"):
        conv_output_size(3, 5, 1, "valid")


def test_non_square_kernel_stride_and_padding():
    layer = Conv2D(1, 2, (3, 2), stride=(1, 2), padding=(1, 0), rng=0)
    assert layer(np.zeros((1, 1, 6, 6))).shape == (1, 2, 6, 3)
    assert "kernel_size=(3, 2)" in repr(layer)


# ------------------------------------------------------------------------- the notes' example
def test_worked_kernel_example_gives_2550():
    kernel = -np.ones((3, 3))
    kernel[1, 1] = 10
    patch = np.zeros((3, 3))
    patch[1, 1] = 255
    layer = Conv2D(1, 1, 3, rng=0)
    layer.W.data[...] = kernel
    out = layer(patch[None, None])
    assert out.shape == (1, 1, 1, 1) and out[0, 0, 0, 0] == 2550
    # slid over a whole image ("same" mode), the lone bright pixel becomes 2550 surrounded by −255
    image = np.zeros((1, 1, 5, 5))
    image[0, 0, 2, 2] = 255
    same = Conv2D(1, 1, 3, padding="same", rng=0)
    same.W.data[...] = kernel
    expected = np.zeros((5, 5))
    expected[1:4, 1:4] = -255
    expected[2, 2] = 2550
    np.testing.assert_array_equal(same(image)[0, 0], expected)


# ------------------------------------------------------------------------- gradients
@pytest.mark.parametrize("padding", MODES)
@pytest.mark.parametrize("stride", [1, 2])
@pytest.mark.parametrize("k", [2, 3])
@pytest.mark.parametrize("size", [(5, 5), (6, 7)])
def test_gradient_check(padding, stride, k, size):
    layer = random_conv(2, 3, k, stride, padding)
    x = np.random.default_rng(1).standard_normal((2, 2, *size))
    report = check_module(layer, x, rng=2)
    assert report.max_error < 1e-6, report


def test_gradient_check_without_bias_and_inside_a_model():
    layer = Conv2D(2, 2, 3, padding="same", bias=False, rng=0)
    assert layer.parameters() == [layer.W]
    x = np.random.default_rng(1).standard_normal((2, 2, 4, 4))
    assert check_module(layer, x, rng=2).max_error < 1e-6
    model = Sequential(Conv2D(1, 2, 3, rng=0), Tanh(), MaxPool2D(2), Flatten(), Dense(8, 3, rng=0))
    report = check_module(model, np.random.default_rng(3).standard_normal((2, 1, 6, 6)), rng=4)
    assert report.max_error < 1e-6, report


def test_gradients_accumulate():
    layer = random_conv(1, 2, 3)
    x = np.random.default_rng(1).standard_normal((2, 1, 5, 5))
    delta = np.ones(layer(x).shape)
    layer.backward(delta)
    once = layer.W.grad.copy()
    layer(x)
    layer.backward(delta)
    np.testing.assert_allclose(layer.W.grad, 2 * once)


# ------------------------------------------------------------------------- vs the naive loops
@pytest.mark.parametrize("padding, stride, k, size", [
    ("valid", 1, 3, (6, 5)), ("same", 2, 3, (7, 7)), ("full", 1, 2, (4, 5)), (2, 3, 4, (9, 8)),
])
def test_vectorized_equals_naive_reference(padding, stride, k, size):
    layer = random_conv(3, 4, k, stride, padding)
    rng = np.random.default_rng(5)
    x = rng.standard_normal((2, 3, *size))
    y = layer(x)
    np.testing.assert_allclose(y, conv2d_naive(x, layer.W.data, layer.b.data, stride, padding), atol=1e-12)
    delta = rng.standard_normal(y.shape)
    layer.zero_grad()
    grad_x = layer.backward(delta)
    ref_x, ref_W, ref_b = conv2d_backward_naive(x, layer.W.data, delta, stride, padding)
    np.testing.assert_allclose(grad_x, ref_x, atol=1e-12)
    np.testing.assert_allclose(layer.W.grad, ref_W, atol=1e-12)
    np.testing.assert_allclose(layer.b.grad, ref_b, atol=1e-12)


def test_col2im_is_the_adjoint_of_im2col():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3, 7, 6))
    cols = im2col(x, 3, stride=2, padding=1)
    assert cols.shape == (3 * 9, 4 * 3 * 2)
    other = rng.standard_normal(cols.shape)
    # ⟨im2col(x), C⟩ = ⟨x, col2im(C)⟩ is what makes col2im give the gradient with respect to x
    assert np.isclose(np.sum(cols * other), np.sum(x * col2im(other, x.shape, 3, stride=2, padding=1)))


# ------------------------------------------------------------------------- dtypes, init, errors
def test_float32_by_default_and_float64_after_double():
    layer = Conv2D(1, 2, 3, rng=0)
    x = np.random.default_rng(0).standard_normal((2, 1, 5, 5))
    assert layer.W.dtype == np.float32 and layer(x).dtype == np.float32
    assert layer.backward(np.ones((2, 2, 3, 3))).dtype == np.float32
    assert layer(np.ones((1, 1, 4, 4), dtype=np.uint8)).dtype == np.float32
    assert layer.double()(x).dtype == np.float64


def test_initialization_uses_the_fan_in():
    layer = Conv2D(16, 64, 5, rng=0)
    assert layer.W.shape == (64, 16, 5, 5) and layer.b.shape == (64,) and not layer.b.data.any()
    assert np.isclose(layer.W.data.std(), np.sqrt(2 / (16 * 25)), rtol=0.05)  # He: N(0, 2/fan_in)
    bound = np.sqrt(6 / (16 * 25 + 64 * 25))
    xavier = Conv2D(16, 64, 5, init="xavier", rng=0).W.data
    assert np.abs(xavier).max() <= bound and np.abs(xavier).max() > 0.9 * bound


def test_errors_name_the_layer_and_say_what_to_do():
    layer = Conv2D(1, 20, 5, rng=0)
    with pytest.raises(ShapeError, match=r"Conv2D\(1, 20.*\(64, 784\).*reshape\(-1, 1, 28, 28\)"):
        layer(np.zeros((64, 784)))
    with pytest.raises(ShapeError, match="3 channels but the layer was built for 1"):
        layer(np.zeros((2, 3, 28, 28)))
    with pytest.raises(ShapeError, match="single image needs a batch axis"):
        layer(np.zeros((1, 28, 28)))
    with pytest.raises(ShapeError, match="does not fit"):
        layer(np.zeros((2, 1, 4, 4)))
    with pytest.raises(ValueError, match="kernel_size"):
        Conv2D(1, 2, 0)
    with pytest.raises(RuntimeError, match="before forward"):
        Conv2D(1, 2, 3).backward(np.zeros((1, 2, 1, 1)))
    layer(np.zeros((2, 1, 28, 28)))
    with pytest.raises(ShapeError, match="output's shape"):
        layer.backward(np.zeros((2, 20, 28, 28)))


def test_feature_maps_lists_every_layer_output():
    model = Sequential(Conv2D(1, 4, 3, rng=0), MaxPool2D(2), Flatten())
    maps = feature_maps(model, np.zeros((2, 1, 8, 8)))
    assert [m.shape for _, m in maps] == [(2, 4, 6, 6), (2, 4, 3, 3), (2, 36)]
    assert maps[0][0].startswith("0: Conv2D(1, 4")


# ------------------------------------------------------------------------- PyTorch agreement
def test_agrees_with_pytorch():
    torch = pytest.importorskip("torch")
    layer = random_conv(3, 4, 3, stride=2, padding=1)
    x = np.random.default_rng(0).standard_normal((2, 3, 7, 8))
    y = layer(x)
    delta = np.random.default_rng(1).standard_normal(y.shape)
    grad_x = layer.backward(delta)
    tx = torch.tensor(x, requires_grad=True)
    tW = torch.tensor(layer.W.data, requires_grad=True)
    tb = torch.tensor(layer.b.data, requires_grad=True)
    ty = torch.nn.functional.conv2d(tx, tW, tb, stride=2, padding=1)
    ty.backward(torch.tensor(delta))
    np.testing.assert_allclose(y, ty.detach().numpy(), atol=1e-12)
    for ours, theirs in [(grad_x, tx), (layer.W.grad, tW), (layer.b.grad, tb)]:
        np.testing.assert_allclose(ours, theirs.grad.numpy(), atol=1e-12)


def test_batch_first_is_the_transposed_copy_in_blocks():
    from coursepkg.nn.conv import batch_first

    rng = np.random.default_rng(0)
    a = rng.standard_normal((3, 7, 11, 5)).astype(np.float32)  # 231 rows: not a multiple of the block
    for arr in (a, a[:, 1:6, 2:9]):  # contiguous, and a cropped (strided) view as col2im passes
        got = batch_first(arr, block=16)
        assert got.flags.c_contiguous and got.dtype == np.float32
        np.testing.assert_array_equal(got, arr.transpose(3, 0, 1, 2))
