"""Section 4.1's augmentations, batched, against torchvision's per-image transforms and the paper's formulas."""

import numpy as np
import pytest
import torch
from torch import nn
from torchvision.transforms import functional as TF

from alexnet.data.augment import (
    Augment,
    center_crop,
    crop_flip,
    pca_lighting,
    random_crop_flip,
    random_crop_flip_params,
    rgb_eigen,
    ten_crop,
)
from alexnet.training.evaluate import center_crop_predict, ten_crop_predict

DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


def _images(n=6, h=20, w=23, seed=0, dtype=torch.uint8):
    g = torch.Generator().manual_seed(seed)
    return torch.randint(0, 256, (n, 3, h, w), generator=g).to(dtype)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", [torch.uint8, torch.float32])
def test_crop_flip_matches_torchvision_per_image(device, dtype):
    images = _images(dtype=dtype).to(device)
    top, left = torch.tensor([0, 3, 8, 1, 0, 8]), torch.tensor([0, 11, 5, 2, 11, 0])
    flip = torch.tensor([False, True, True, False, True, False])
    out = crop_flip(images, top, left, flip, 12)
    assert out.shape == (6, 3, 12, 12) and out.dtype == dtype and out.device.type == device
    for i in range(6):
        expected = TF.crop(images[i], int(top[i]), int(left[i]), 12, 12)
        expected = TF.hflip(expected) if flip[i] else expected
        assert torch.equal(out[i], expected)
    with pytest.raises(ValueError, match="inside the 20x23 images"):
        crop_flip(images, top + 1, left, flip, 12)


def test_random_crop_flip_is_seeded_and_uniform():
    images = _images(n=4000, h=10, w=10)
    a = random_crop_flip(images, 8, generator=torch.Generator().manual_seed(1))
    b = random_crop_flip(images, 8, generator=torch.Generator().manual_seed(1))
    assert torch.equal(a, b)
    top, left, flip = random_crop_flip_params(4000, 10, 10, 8, torch.Generator().manual_seed(1))
    assert torch.equal(a, crop_flip(images, top, left, flip, 8))
    # every one of the 3 x 3 places occurs, about equally often; about half are mirrored
    counts = torch.bincount(top * 3 + left, minlength=9)
    assert counts.min() > 4000 / 9 * 0.8 and counts.max() < 4000 / 9 * 1.2
    assert 0.45 < flip.float().mean().item() < 0.55
    c = random_crop_flip(images, 8, generator=torch.Generator().manual_seed(2))
    assert not torch.equal(a, c)
    with pytest.raises(ValueError, match="crop size must lie in"):
        random_crop_flip(images, 11)


def test_distinct_crops_and_flips_count_positions_times_two():
    # the exact count behind the paper's "factor of 2048": (H - s + 1) (W - s + 1) places, 2 reflections
    image = _images(n=1, h=12, w=13)
    h, w, s = 12, 13, 8
    places = [(t, x) for t in range(h - s + 1) for x in range(w - s + 1)]
    outs = set()
    for flip in (False, True):
        for t, x in places:
            out = crop_flip(image, torch.tensor([t]), torch.tensor([x]), torch.tensor([flip]), s)
            outs.add(out.numpy().tobytes())
    assert len(outs) == (h - s + 1) * (w - s + 1) * 2 == 60
    assert (256 - 224 + 1) ** 2 * 2 == 2178


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize(
    "shape,size", [((20, 23), 12), ((11, 11), 8), ((256, 256), 224), ((256, 256), 227), ((9, 10), 9)]
)
def test_center_crop_matches_torchvision_and_ten_crop_takes_five_patches_and_their_reflections(device, shape, size):
    images = _images(n=2, h=shape[0], w=shape[1]).to(device)
    crops = ten_crop(images, size)
    assert crops.shape == (2, 10, 3, size, size)
    for i in range(2):
        tv = TF.ten_crop(images[i], [size, size])
        for k in range(4):  # the corners are torchvision's; the reflections are of the same five patches
            assert torch.equal(crops[i, k], tv[k]), k
        assert torch.equal(center_crop(images, size)[i], TF.center_crop(images[i], [size, size]))
    assert torch.equal(crops[:, 5:], crops[:, :5].flip(-1))
    top, left = (shape[0] - size) // 2, (shape[1] - size) // 2
    assert torch.equal(crops[:, 4], images[:, :, top : top + size, left : left + size])


def test_ten_crop_differs_from_torchvisions_where_the_mirrored_centre_moves():
    """At 256 -> 227 the mirrored image's centre patch is the flip of the patch at column 15, not 14."""
    images = _images(n=1, h=256, w=256)
    ours, tv = ten_crop(images, 227)[0], TF.ten_crop(images[0], [227, 227])
    assert torch.equal(ours[9], images[0, :, 14:241, 14:241].flip(-1))
    assert torch.equal(tv[9], images[0, :, 14:241, 15:242].flip(-1)) and not torch.equal(ours[9], tv[9])


def test_rgb_eigen_matches_numpy_covariance():
    images = _images(n=5, h=16, w=16, seed=3)
    # correlate the channels, as in photographs
    images[:, 1] = (images[:, 0].int() // 2 + images[:, 1].int() // 2).to(torch.uint8)
    values, vectors = rgb_eigen(images)
    pixels = images.permute(0, 2, 3, 1).reshape(-1, 3).numpy().astype(np.float64) / 255.0
    cov = np.cov(pixels, rowvar=False)
    expected = np.linalg.eigvalsh(cov)[::-1]
    np.testing.assert_allclose(values.numpy(), expected, rtol=1e-5)
    assert torch.all(values[:-1] >= values[1:])
    # columns are unit eigenvectors: cov p_i = l_i p_i, and P diag(l) P^T rebuilds the covariance
    np.testing.assert_allclose(cov @ vectors.double().numpy(), vectors.double().numpy() * expected, atol=1e-6)
    np.testing.assert_allclose((vectors @ torch.diag(values) @ vectors.T).numpy(), cov, atol=1e-6)
    assert torch.all(vectors[vectors.abs().argmax(0), torch.arange(3)] > 0)
    # float input on the [0, 1] scale, with a mean removed, gives the same decomposition
    v2, p2 = rgb_eigen(images.float() / 255.0 - 0.4)
    torch.testing.assert_close(v2, values, rtol=1e-4, atol=1e-7)
    torch.testing.assert_close(p2, vectors, rtol=1e-3, atol=1e-4)


@pytest.mark.parametrize("device", DEVICES)
def test_pca_lighting_is_the_papers_formula(device):
    images = _images(n=4, h=5, w=6, dtype=torch.float32).to(device) / 255.0
    values = torch.tensor([0.2, 0.02, 0.004])
    vectors = torch.linalg.qr(torch.tensor([[1.0, 0.3, 0.1], [0.9, -0.2, 0.5], [0.8, -0.6, -0.4]]))[0]
    out = pca_lighting(images, values, vectors, std=0.1, generator=torch.Generator().manual_seed(7))
    alpha = torch.randn(4, 3, generator=torch.Generator().manual_seed(7)).numpy() * 0.1
    for n in range(4):
        shift = vectors.numpy() @ (alpha[n] * values.numpy())  # [p1 p2 p3][a1 l1, a2 l2, a3 l3]^T
        delta = (out[n] - images[n]).cpu().numpy()
        np.testing.assert_allclose(delta, np.broadcast_to(shift.reshape(3, 1, 1), delta.shape), atol=1e-6)
    assert torch.equal(pca_lighting(images, values, vectors, std=0.0), images)


def test_pca_lighting_on_uint8_rounds_and_clips():
    images = torch.tensor([0, 128, 255], dtype=torch.uint8).view(1, 3, 1, 1).expand(2, 3, 4, 4).contiguous()
    values, vectors = torch.tensor([1.0, 0.0, 0.0]), torch.eye(3)
    out = pca_lighting(images, values, vectors, std=1.0, generator=torch.Generator().manual_seed(0))
    alpha = torch.randn(2, 3, generator=torch.Generator().manual_seed(0))
    expected = images.float() + 255 * alpha[:, 0].view(2, 1, 1, 1) * torch.tensor([1.0, 0, 0]).view(1, 3, 1, 1)
    assert out.dtype == torch.uint8
    assert torch.equal(out, expected.round().clamp(0, 255).to(torch.uint8))
    with pytest.raises(ValueError, match="3 eigenvalues"):
        pca_lighting(images, values[:2], vectors)


def test_augment_layer_trains_on_patches_and_tests_on_the_centre():
    images = _images(n=8, h=12, w=12, dtype=torch.float32)
    layer = Augment(8, eigen=rgb_eigen(images / 255.0), generator=torch.Generator().manual_seed(0))
    out = layer(images)
    assert out.shape == (8, 3, 8, 8) and not torch.equal(out, center_crop(images, 8))
    layer.eval()
    assert torch.equal(layer(images), center_crop(images, 8))
    plain = Augment(8, crop=False, flip=False)
    assert torch.equal(plain(images), center_crop(images, 8))
    flips = Augment(8, crop=False, generator=torch.Generator().manual_seed(0))(images)
    for i in range(8):  # only reflections of the centre crop
        assert torch.equal(flips[i], center_crop(images, 8)[i]) or torch.equal(
            flips[i], center_crop(images, 8)[i].flip(-1)
        )


def test_ten_crop_predict_averages_softmax_over_the_ten_patches():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(3 * 8 * 8, 5))
    model.train()
    images = _images(n=7, h=11, w=12)
    from alexnet.data.inputs import ModelInput

    inputs = ModelInput.fit("paper", images)
    mean_image = images.double().mean(0).float()
    probs = ten_crop_predict(model, images, 8, inputs, batch_size=3)
    assert model.training and probs.shape == (7, 5)
    with torch.no_grad():
        for i in range(7):
            x = images[i].float() - mean_image  # the mean image is removed, then the patches are cut
            five = torch.stack([x[:, :8, :8], x[:, :8, -8:], x[:, -8:, :8], x[:, -8:, -8:], x[:, 1:9, 2:10]])
            views = torch.cat([five, five.flip(-1)])
            torch.testing.assert_close(probs[i], model(views).softmax(1).mean(0))
        centre = (images.float() - mean_image)[:, :, 2:10, 2:10]
        torch.testing.assert_close(center_crop_predict(model, images, 8, inputs), model(centre).softmax(1))
    torch.testing.assert_close(probs.sum(1), torch.ones(7))
    with pytest.raises(ValueError, match="input convention"):
        ten_crop_predict(model, images, 8)


def test_the_chapters_full_run_takes_one_step_on_a_cpu():
    """The augmentation claim's full-mode design (a GPU's): its data and every arm run one step here."""
    from alexnet.claims.fit import fit
    from alexnet.claims.designs import CLAIMS

    claim = CLAIMS["augmentation"]
    design = claim.full
    train, _ = claim.data({**design.data, "train_patches": 2, "val_patches": 2}, 0)
    assert train.images.shape[-1] == design.budget.image_size == 146
    for options in claim.arms.values():
        model = claim.build(options, design.budget, train)
        assert model[0].size == 128  # Section 4.1's 224/256 ratio of crop to image
        history = fit(model, train, None, design.budget, device="cpu", max_steps=1)
        assert history.steps == 1 and np.isfinite(history.train_loss[0])


def test_the_gpu_gather_path_equals_the_per_image_path():
    """crop_flip's GPU strategy (one gather) computes what its CPU strategy does; checked here on the CPU."""
    from alexnet.data.augment import _gather_crops

    g = torch.Generator().manual_seed(0)
    images = torch.randint(0, 256, (6, 3, 20, 24), dtype=torch.uint8, generator=g)
    top, left, flip = random_crop_flip_params(6, 20, 24, 15, g)
    assert torch.equal(_gather_crops(images, top, left, flip, 15), crop_flip(images, top, left, flip, 15))
