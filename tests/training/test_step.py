"""The GPU's fast path, run on a CPU: every branch of TrainStep against the plain fp32 step.

Each branch the trainer takes on a GPU (bf16 autocast; fp16 autocast with the gradient scaler and
the LRN kept in fp32; channels-last; torch.compile; torch's LRN kernel) is forced on the CPU here
and compared with the fp32 NCHW step on the same batch: one step's loss and gradients, within the
tolerances stated below. Dropout is off for these comparisons, so that they compare arithmetic,
not random masks.
"""

import dataclasses
import os
import shutil
import warnings

import pytest
import torch

from alexnet.data import augment as aug
from alexnet.data.inputs import ModelInput
from alexnet.nn.lrn import LRN_IMPLS, LocalResponseNorm, local_response_norm
from alexnet.nn.model import build_model
from alexnet.training import step as step_module
from alexnet.training.checkpoint import read_metrics
from alexnet.training.config import TrainConfig
from alexnet.training.loop import train
from alexnet.training.sgd import PaperSGD
from alexnet.training.step import (
    GPUS,
    TrainStep,
    _Float32,
    autocast_dtype,
    choose_lrn,
    lrn_timings,
    native_dtype,
    use_channels_last,
)

CPU = torch.device("cpu")
TIMING = ("images_per_second", "epoch_seconds")

# Tolerances for one step against fp32 (loss: relative; gradients: relative L2 error of each parameter tensor).
# Reduced precision changes which max-pool input wins and which ReLUs are open for a few activations, so
# gradients of the first layers differ by up to ~20% (bf16, 8 mantissa bits) or ~10% (fp16, 11 bits);
# a wrong branch (a gradient left scaled, a permuted layout) is off by 100% or more.
TOLERANCE = {
    "bf16": {"loss": 1e-2, "grad": 0.35},
    "fp16": {"loss": 1e-2, "grad": 0.2},
    "fp32": {"loss": 1e-5, "grad": 1e-4},  # channels-last, torch's LRN, compile: the same arithmetic, reordered
}


def one_step(**options):
    """Loss, gradients and the step of one TrainStep on a fixed batch of the paper's model (width 0.25, 67 px)."""
    torch.manual_seed(0)
    model = build_model(
        "paper", width=0.25, image_size=67, num_classes=4, init="kaiming", input_convention="torchvision", dropout=0.0
    )
    step = TrainStep(model, PaperSGD(model.parameters()), CPU, **options)
    g = torch.Generator().manual_seed(1)
    x = torch.rand(16, 3, 67, 67, generator=g) - 0.5
    y = torch.randint(0, 4, (16,), generator=g)
    loss, _ = step(x, y)
    return loss.item(), {n: p.grad.clone() for n, p in model.named_parameters()}, step


@pytest.fixture(scope="module")
def fp32_step():
    loss, grads, step = one_step(amp=False, channels_last=False)
    assert step.dtype is None and not step.channels_last and not step.scaler.is_enabled()
    return loss, grads


def assert_close_to_fp32(reference, loss, grads, tolerance):
    ref_loss, ref_grads = reference
    assert abs(loss - ref_loss) <= tolerance["loss"] * abs(ref_loss), (loss, ref_loss)
    for name, g in grads.items():
        assert torch.isfinite(g).all(), name
        error = ((g - ref_grads[name]).norm() / ref_grads[name].norm()).item()
        assert error <= tolerance["grad"], f"{name}: relative gradient error {error:.3g} > {tolerance['grad']}"


@pytest.mark.parametrize(
    "options, kind",
    [
        ({"amp": "bf16", "channels_last": False}, "bf16"),
        ({"amp": "bf16", "channels_last": "always"}, "bf16"),
        ({"amp": "fp16", "channels_last": False}, "fp16"),
        ({"amp": False, "channels_last": "always"}, "fp32"),
        ({"amp": False, "channels_last": False, "lrn": "torch"}, "fp32"),
    ],
    ids=["bf16", "bf16-channels-last", "fp16-scaler-lrn-fp32", "channels-last", "torch-lrn"],
)
def test_each_branch_matches_the_fp32_step(fp32_step, options, kind):
    loss, grads, step = one_step(**options)
    assert step.dtype == {"bf16": torch.bfloat16, "fp16": torch.float16, "fp32": None}[kind]
    assert step.channels_last == (options["channels_last"] == "always")
    if step.channels_last:
        assert step.model.features[0].weight.is_contiguous(memory_format=torch.channels_last)
    if kind == "fp16":  # the T4's branch: the scaler on, the LRN layers wrapped to run in fp32
        assert step.scaler.is_enabled() and step.scaler.get_scale() == 2.0**16  # no overflow: scale kept
        lrns = [m for m in step.model.features if isinstance(m, _Float32)]
        assert len(lrns) == 2 and all(isinstance(m.module, LocalResponseNorm) for m in lrns)
    assert_close_to_fp32(fp32_step, loss, grads, TOLERANCE[kind])


def test_the_scaler_skips_a_step_whose_gradients_overflow():
    """fp16 on a CPU with the real (enabled) gradient scaler: an overflow skips the update and halves the scale."""
    torch.manual_seed(0)
    model = build_model(
        "paper", width=0.25, image_size=67, num_classes=4, init="kaiming", input_convention="torchvision"
    )
    step = TrainStep(model, PaperSGD(model.parameters()), CPU, amp="fp16")
    before = [p.detach().clone() for p in model.parameters()]
    x = torch.full((4, 3, 67, 67), 1e5)  # conv1's fp16 output overflows
    loss, _ = step(x, torch.zeros(4, dtype=torch.long))
    assert not torch.isfinite(loss)
    assert step.scaler.get_scale() == 2.0**15
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters(), strict=True))
    loss, _ = step(torch.rand(4, 3, 67, 67) - 0.5, torch.zeros(4, dtype=torch.long))  # the next step goes on
    assert torch.isfinite(loss) and not all(torch.equal(a, b) for a, b in zip(before, model.parameters(), strict=True))


def test_the_lrn_in_fp32_wrapper_is_what_keeps_fp16_finite():
    """Section 3.3's LRN squares activations: above 256 a square overflows fp16 (max 65504); the wrapper computes in fp32."""
    a = torch.linspace(-600, 600, 2 * 8 * 3 * 3).view(2, 8, 3, 3)
    with torch.autocast("cpu", dtype=torch.float16):
        half = LocalResponseNorm()(a.half())
        wrapped = _Float32(LocalResponseNorm())(a.half())
    reference = local_response_norm(a)  # fp32
    # in fp16 the squares become inf, the divisor inf, and the layer's output 0 where it should be large
    assert (half.float() - reference).abs().max() > 0.5 * reference.abs().max()
    assert wrapped.dtype == torch.float16
    torch.testing.assert_close(wrapped.float(), reference, rtol=2e-3, atol=1e-3)


def test_the_two_lrn_implementations_give_the_same_numbers_forward_and_backward():
    torch.manual_seed(3)
    a = (torch.randn(2, 96, 13, 13) * 20).requires_grad_()
    out = {}
    for impl in ("paper", "torch"):
        a.grad = None
        y = LocalResponseNorm(impl=impl)(a)
        (y * torch.linspace(-1, 1, y.numel()).view_as(y)).sum().backward()
        out[impl] = (y.detach(), a.grad.clone())
    torch.testing.assert_close(out["paper"][0], out["torch"][0], rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(out["paper"][1], out["torch"][1], rtol=1e-4, atol=1e-6)
    with pytest.raises(ValueError, match="impl must be one of paper, torch"):
        LocalResponseNorm(impl="cudnn")


def _fake_timer(monkeypatch, faster: str) -> list[tuple[str, tuple, torch.dtype]]:
    """Make ``faster`` the faster LRN for the step module's timer, and no device a measured rule (as a GPU has none).

    The fake runs the timed call once, sees which implementation ran on what input, and returns 1 s for ``faster``
    and 2 s for the other; it returns the list of what was timed.
    """
    timed = []
    forward = LocalResponseNorm.forward

    def fake_time_call(fn, repeats=5, warmup=2):
        seen = []

        def spy(self, x):
            seen.append((self.impl, tuple(x.shape), x.dtype))
            return forward(self, x)

        LocalResponseNorm.forward = spy
        try:
            fn()
        finally:
            LocalResponseNorm.forward = forward
        timed.append(seen[-1])
        return 1.0 if seen[-1][0] == faster else 2.0

    monkeypatch.setattr(step_module, "time_call", fake_time_call)
    monkeypatch.setattr(step_module, "_LRN_RULE", {})
    return timed


@pytest.mark.parametrize("faster", LRN_IMPLS)
def test_the_trainer_picks_the_measured_faster_lrn(faster, monkeypatch):
    """On a device without a measured rule, both implementations are timed on the first LRN's input (conv1's output,
    24 x 15 x 15 at width 0.25 and 67 px) in the step's dtype, and the faster one is set on every LRN layer."""
    timed = _fake_timer(monkeypatch, faster)
    model = build_model("paper", width=0.25, image_size=67, num_classes=4)
    assert choose_lrn(model, CPU, None, batch_size=4) == faster
    assert [m.impl for m in model.modules() if isinstance(m, LocalResponseNorm)] == [faster, faster]
    assert sorted(impl for impl, _, _ in timed) == sorted(LRN_IMPLS)
    assert {(shape, dtype) for _, shape, dtype in timed} == {((4, 24, 15, 15), torch.float32)}
    timed.clear()  # under fp16 autocast the LRN runs in fp32 (_Float32), so it is timed in fp32
    assert choose_lrn(model, CPU, torch.float16, batch_size=4) == faster
    assert {dtype for _, _, dtype in timed} == {torch.float32}


def test_on_a_cpu_the_measured_rule_decides_and_both_lrns_can_be_timed(monkeypatch):
    """A CPU has its rule (measured once, _LRN_RULE: the paper's loop), which no timing overrides; the timing itself
    runs on a CPU too, and leaves out torch's kernel in bf16, which it lacks there."""
    model = build_model("paper", width=0.25, image_size=67, num_classes=4)
    assert choose_lrn(model, CPU, None) == "paper"
    times = lrn_timings((4, 24, 15, 15), CPU, repeats=1)  # the measurement used on a GPU, run on the CPU
    assert set(times) == {"paper", "torch"} and all(t > 0 for t in times.values())
    assert set(lrn_timings((4, 24, 15, 15), CPU, torch.bfloat16, repeats=1)) == {"paper"}  # torch's: no bf16 CPU kernel
    monkeypatch.setattr(step_module, "lrn_timings", lambda *a, **k: {"paper": 2.0, "torch": 1.0})  # torch's "faster"
    assert choose_lrn(model, CPU, None) == "paper"


def test_the_options_that_force_gpu_branches_on_a_cpu():
    assert autocast_dtype(CPU, True) is None and autocast_dtype(CPU, False) is None
    assert autocast_dtype(CPU, "bf16") == torch.bfloat16 and autocast_dtype(CPU, "fp16") == torch.float16
    assert not use_channels_last(CPU, True) and use_channels_last(CPU, "always")
    with pytest.raises(ValueError, match="amp must be True, False, 'bf16' or 'fp16'"):
        TrainConfig(amp="fp8")
    with pytest.raises(ValueError, match="channels_last must be True, False or 'always'"):
        TrainConfig(channels_last="yes")


def _compile_unavailable() -> str | None:
    if shutil.which("gcc") is None and shutil.which("cc") is None and shutil.which("clang") is None:
        return "torch.compile's CPU backend needs a C compiler (gcc, cc or clang), and none is on PATH"
    if os.environ.get("ATEN_CPU_CAPABILITY") == "default":
        # inductor still writes vectorised C++ (at::vec) but compiles it without the vector headers: g++ fails
        return "torch.compile's CPU backend cannot build its kernels with ATEN_CPU_CAPABILITY=default (torch 2.14)"
    return None


@pytest.mark.slow
@pytest.mark.skipif(_compile_unavailable() is not None, reason=str(_compile_unavailable()))
def test_compiled_step_matches_the_fp32_step(fp32_step):
    """torch.compile (inductor, C++ on a CPU) of the same fp32 step: the same numbers, reordered. About a minute here."""
    loss, grads, step = one_step(amp=False, channels_last=False, compile=True)
    assert step.train_model is not step.model
    assert_close_to_fp32(fp32_step, loss, grads, TOLERANCE["fp32"])


# ----------------------------------------------------------------------------- the trainer under these options


@pytest.fixture(scope="module")
def fast(tiny_config):
    """The tiny run forced onto the GPU's fast path: bf16 autocast and channels-last, three epochs of 256 images."""
    return tiny_config(
        dataset_options={"num_images": 256},
        val_options={"num_images": 64},
        epochs=3,
        lr=0.02,
        amp="bf16",
        channels_last="always",
    )


def _strip(history):
    return [{k: v for k, v in r.items() if k not in TIMING} for r in history]


def test_bf16_channels_last_training_learns_and_resumes_exactly(fast, tmp_path):
    """The trainer with bf16 autocast and channels-last on a CPU: its loss falls, and stop + resume equals one run."""
    whole = train(dataclasses.replace(fast, out=str(tmp_path / "whole")))
    losses = [r["train_loss"] for r in whole.history]
    assert all(map(torch.isfinite, torch.tensor(losses)))
    assert losses[-1] < losses[0], losses
    assert whole.model.features[0].weight.is_contiguous(memory_format=torch.channels_last)
    train(dataclasses.replace(fast, out=str(tmp_path / "parts"), stop_after=1))
    resumed = train(dataclasses.replace(fast, out=str(tmp_path / "parts"), resume=True))
    assert _strip(read_metrics(tmp_path / "whole")) == _strip(read_metrics(tmp_path / "parts"))
    for a, b in zip(whole.model.state_dict().values(), resumed.model.state_dict().values(), strict=True):
        assert torch.equal(a, b)


@pytest.mark.slow
def test_fp16_scaler_training_resumes_with_the_scaler_state(fast, tmp_path):
    """The fp16 branch (a T4's): the scaler's state goes into the checkpoint and comes back on resume."""
    config = dataclasses.replace(  # small: fp16 convolutions are slow on a CPU
        fast,
        amp="fp16",
        channels_last=False,
        epochs=2,
        dataset_options={**fast.dataset_options, "num_images": 64},
        val_options={"num_images": 32},
    )
    whole = train(dataclasses.replace(config, out=str(tmp_path / "whole")))
    train(dataclasses.replace(config, out=str(tmp_path / "parts"), stop_after=1))
    scale = torch.load(tmp_path / "parts" / "checkpoint.pt", weights_only=False)["scaler"]["scale"]
    assert scale > 0
    resumed = train(dataclasses.replace(config, out=str(tmp_path / "parts"), resume=True))
    assert _strip(whole.history) == _strip(resumed.history)


# ----------------------------------------------------------------------------- augmentation draws


def test_the_device_side_augmentation_equals_the_host_path_for_a_seed():
    """The trainer's Section 4.1 augmentation (draws from a generator on the training device, crops by
    the batched path, the GPU's one-gather crop) equals the host path: torchvision-style per-image crops
    and flips, and the PCA shift computed by hand, from the same seed."""
    from torchvision.transforms.v2 import functional as TF

    g = torch.Generator().manual_seed(5)
    images = torch.randint(0, 256, (6, 3, 40, 44), dtype=torch.uint8, generator=g)
    inputs = ModelInput.fit("paper", images)
    augment = aug.training_augment("paper", 32, images, inputs, TrainConfig().pca_std)
    augment.generator = torch.Generator(device=CPU).manual_seed(7)  # as the trainer sets it each epoch
    got = augment(inputs(images))

    host = torch.Generator().manual_seed(7)  # the same stream, drawn in the order the trainer draws
    top = torch.randint(0, 40 - 32 + 1, (6,), generator=host)
    left = torch.randint(0, 44 - 32 + 1, (6,), generator=host)
    flip = torch.rand(6, generator=host) < 0.5
    alpha = torch.randn(6, 3, generator=host) * TrainConfig().pca_std
    crops, centred = [], []
    mean_image = images.double().mean(0).float()  # Section 2: the mean image, removed before the crop
    for i in range(6):
        crop = TF.crop(images[i], int(top[i]), int(left[i]), 32, 32)
        crops.append(TF.horizontal_flip(crop) if flip[i] else crop)
        crop = TF.crop(images[i].float() - mean_image, int(top[i]), int(left[i]), 32, 32)
        centred.append(TF.horizontal_flip(crop) if flip[i] else crop)
    shift = 255 * (alpha * augment.eigenvalues) @ augment.eigenvectors.T  # in grey levels, the input's unit
    torch.testing.assert_close(got, torch.stack(centred) + shift.view(6, 3, 1, 1))

    # the one-gather crop that a GPU runs gives the same crops as the CPU's per-image copies
    gathered = aug._gather_crops(images, top, left, flip, 32)
    assert torch.equal(gathered, aug.crop_flip(images, top, left, flip, 32))
    assert torch.equal(gathered, torch.stack(crops))


def test_an_unknown_amp_value_is_named_by_the_step():
    model = build_model("paper", width=0.125, image_size=67, num_classes=4)
    with pytest.raises(ValueError, match="amp must be"):
        TrainStep(model, PaperSGD(model.parameters()), CPU, amp="float8")
    with pytest.raises(ValueError, match="lrn must be 'auto', 'paper' or 'torch'"):
        TrainStep(model, PaperSGD(model.parameters()), CPU, lrn="fast")


@pytest.mark.parametrize("gpu", sorted(GPUS))
def test_each_gpu_a_learner_meets_gets_its_precision(gpu, monkeypatch):
    """Decided from the compute capability alone, so it is tested here with the capability faked: a T4 (7.5, Colab's
    free GPU) has no bf16, so fp16 with the gradient scaler and the LRN kept in fp32; an L4, A100 or H100 gets bf16."""
    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda device=None: GPUS[gpu])
    cuda = torch.device("cuda")
    dtype = autocast_dtype(cuda, True)
    assert dtype == native_dtype(GPUS[gpu]) == (torch.float16 if GPUS[gpu] < (8, 0) else torch.bfloat16)
    model = build_model("paper", width=0.125, image_size=67, num_classes=4)
    with warnings.catch_warnings():  # the fp16 scaler warns that this machine has no CUDA
        warnings.simplefilter("ignore")
        step = TrainStep(model, torch.optim.SGD(model.parameters(), lr=0.01), cuda, channels_last=False, lrn="paper")
    assert step.dtype == dtype
    kept_in_fp32 = [m for m in model.modules() if isinstance(m, _Float32)]
    assert len(kept_in_fp32) == (2 if dtype == torch.float16 else 0)  # lrn1 and lrn2
