"""The paper's LRN (Section 3.3): independent loop, torch's convention, the quoted worked example."""

import pytest
import torch
from torch import nn

from alexnet.nn.lrn import (
    LocalResponseNorm,
    cuda_convnet_lrn,
    local_response_norm,
    lrn_parameters,
    paper_lrn_parameters,
    torch_alpha,
)


def lrn_loop(a, n, alpha, beta, k):
    """The paper's formula, one channel at a time, with the sum's limits as printed."""
    out = torch.empty_like(a)
    channels = a.shape[1]
    for i in range(channels):
        lo, hi = max(0, i - n // 2), min(channels - 1, i + n // 2)
        s = sum(a[:, j] ** 2 for j in range(lo, hi + 1))
        out[:, i] = a[:, i] / (k + alpha * s) ** beta
    return out


@pytest.mark.parametrize("n", [1, 3, 5, 7])
def test_matches_loop_over_channels(n):
    torch.manual_seed(0)
    a = torch.randn(2, 11, 4, 5, dtype=torch.float64) * 10
    torch.testing.assert_close(local_response_norm(a, n, 1e-4, 0.75, 2.0), lrn_loop(a, n, 1e-4, 0.75, 2.0))


def test_matches_torch_with_alpha_times_n():
    torch.manual_seed(1)
    a = torch.randn(3, 96, 13, 13) * 20
    ours = local_response_norm(a)  # paper defaults
    theirs = torch.nn.LocalResponseNorm(5, alpha=torch_alpha(1e-4, 5), beta=0.75, k=2.0)(a)
    torch.testing.assert_close(ours, theirs, rtol=1e-5, atol=1e-6)
    # with the paper's alpha passed unchanged, torch normalises n times less
    unchanged = torch.nn.LocalResponseNorm(5, alpha=1e-4, beta=0.75, k=2.0)(a)
    assert not torch.allclose(ours, unchanged, rtol=1e-4)


def test_worked_example():
    a = torch.tensor([0.0, 0.5272, 1.1392, 1.0331]).view(1, 4, 1, 1)
    b = local_response_norm(a, size=3, alpha=1 / 3, beta=1.0, k=1.0)
    assert b[0, 1, 0, 0].item() == pytest.approx(0.3457, abs=5e-5)


def test_module_and_defaults():
    m = LocalResponseNorm()
    assert (m.size, m.alpha, m.beta, m.k) == (5, 1e-4, 0.75, 2.0)
    x = torch.randn(1, 8, 3, 3)
    torch.testing.assert_close(m(x), local_response_norm(x))
    assert "paper convention" in repr(m)


def test_works_on_rank_3_and_gradients_flow():
    x = torch.randn(2, 6, 10, requires_grad=True)
    local_response_norm(x).sum().backward()
    assert x.grad is not None and torch.isfinite(x.grad).all()


def test_rejects_bad_input():
    with pytest.raises(ValueError, match="rank >= 3"):
        local_response_norm(torch.randn(4, 5))
    with pytest.raises(ValueError, match="size"):
        local_response_norm(torch.randn(1, 4, 2, 2), size=0)


def test_lrn_conventions_compute_the_same_layer():
    torch.manual_seed(0)
    x = 50 * torch.rand(2, 12, 3, 3)
    p = lrn_parameters(size=5, alpha=1e-4, beta=0.75, k=2.0)
    paper = local_response_norm(x)
    assert p["pytorch"]["alpha"] == pytest.approx(5e-4)
    torch_lrn = nn.LocalResponseNorm(5, p["pytorch"]["alpha"], 0.75, 2.0)(x)
    assert torch.allclose(torch_lrn, paper, rtol=1e-5)
    c2 = p["cuda-convnet2"]
    assert torch.allclose(cuda_convnet_lrn(x, 5, c2["scale"], 0.75, min_div=c2["minDiv"]), paper, rtol=1e-5)
    c1 = p["cuda-convnet"]
    assert c1["scale"] == pytest.approx(2.5e-4) and c1["output_factor"] == pytest.approx(2**-0.75)
    assert torch.allclose(c1["output_factor"] * cuda_convnet_lrn(x, 5, c1["scale"], 0.75), paper, rtol=1e-5)
    # unconverted numbers give a different layer
    assert not torch.allclose(nn.LocalResponseNorm(5, 1e-4, 0.75, 2.0)(x), paper, rtol=1e-3)
    with pytest.raises(ValueError, match="size"):
        cuda_convnet_lrn(x, size=0)
    with pytest.raises(ValueError, match="k > 0"):
        lrn_parameters(k=0)


def test_paper_lrn_parameters_inverts_lrn_parameters():
    forward = lrn_parameters(size=5, alpha=1e-4, beta=0.75, k=2.0)
    for convention in ("pytorch", "cuda-convnet2"):
        back = paper_lrn_parameters(convention, **forward[convention])
        assert back["size"] == 5 and back["beta"] == 0.75 and back["k"] == 2.0
        assert back["alpha"] == pytest.approx(1e-4)


def test_paper_lrn_parameters_of_caffe_and_cuda_convnet_configs():
    """The LRN settings the reference implementations shipped, in the paper's convention.

    Caffe: models/bvlc_alexnet/train_val.prototxt (local_size 5, alpha 1e-4, beta 0.75, k left at
    caffe.proto's default 1), BVLC/caffe@9b891540183ddc834a02b2bd81b31afae71b2153.
    cuda-convnet2: layers/layer-params-imagenet-1gpu.cfg (scale 1e-4, pow 0.75, minDiv 2) with
    size 5 from layers/layers-imagenet-1gpu.cfg, akrizhevsky/cuda-convnet2@3238bf0367f63eb370e897b9e5714794cb67ddc2.
    cuda-convnet: example-layers/layers-conv-local-11pct.cfg (cmrnorm size 9) and
    layer-params-conv-local-11pct.cfg (scale 0.001), dnouri/cuda-convnet@35d0bc474c6d42a021e58723f5caee9f6d4fa8bb.
    """
    caffe = paper_lrn_parameters("caffe", local_size=5, alpha=1e-4, beta=0.75)
    assert (caffe["size"], caffe["k"]) == (5, 1.0) and caffe["alpha"] == pytest.approx(2e-5)
    convnet2 = paper_lrn_parameters("cuda-convnet2", size=5, scale=1e-4, pow=0.75, minDiv=2)
    assert convnet2["k"] == 2.0 and convnet2["alpha"] == pytest.approx(2e-5)
    convnet = paper_lrn_parameters("cuda-convnet", size=9, scale=1e-3, pow=0.75)
    assert convnet["k"] == 1.0 and convnet["alpha"] == pytest.approx(1e-3 / 9)
    # and they compute the layers the implementations compute
    torch.manual_seed(2)
    x = torch.rand(2, 16, 3, 3) * 100
    torch.testing.assert_close(
        local_response_norm(x, **caffe), nn.LocalResponseNorm(5, alpha=1e-4, beta=0.75, k=1.0)(x), rtol=1e-5, atol=1e-6
    )
    torch.testing.assert_close(local_response_norm(x, **convnet2), cuda_convnet_lrn(x, 5, 1e-4, 0.75, min_div=2.0))
    torch.testing.assert_close(local_response_norm(x, **convnet), cuda_convnet_lrn(x, 9, 1e-3, 0.75))


def test_paper_lrn_parameters_worked_example_in_pytorch_convention():
    p = paper_lrn_parameters("pytorch", size=3, alpha=1.0, beta=1.0, k=1.0)
    assert p == {"size": 3, "alpha": pytest.approx(1 / 3), "beta": 1.0, "k": 1.0}
    a = torch.tensor([0.0, 0.5272, 1.1392, 1.0331]).view(1, 4, 1, 1)
    assert local_response_norm(a, **p)[0, 1, 0, 0].item() == pytest.approx(0.3457, abs=5e-5)


@pytest.mark.parametrize(
    "convention, params, message",
    [
        ("tensorflow", {}, "convention must be one of"),
        ("caffe", {"size": 5}, "unknown"),
        ("cuda-convnet", {"size": 5, "scale": 1e-3}, "missing"),
        ("pytorch", {"size": 2.5, "alpha": 1.0}, "whole number"),
    ],
)
def test_paper_lrn_parameters_rejects_bad_input(convention, params, message):
    with pytest.raises(ValueError, match=message):
        paper_lrn_parameters(convention, **params)
