"""What a rehearsal kernel runs before a chapter's first cell (tests/book/test_rehearsal.py injects the call).

It makes the kernel look like Colab (the stand-in ``google.colab`` on the path; pip, which the
install cell calls, not run; Drive "mounted" in a temporary folder) and points torchvision's
dataset addresses and checksums at the stand-in archives on the local server (and its ImageNet
weights at a stand-in in torch's hub cache). The checksums are
the stand-ins' own, set here by the test, never by a variable a user could set; the package's
download, MD5 check, extraction and cache code run unchanged.
"""

from __future__ import annotations

import subprocess
import sys


def setup(fake_colab: str, drive: str, base_url: str, cifar: dict, imagenette: dict, hub: str) -> None:
    sys.path.insert(0, fake_colab)
    import google.colab  # noqa: F401  (its presence is what the chapters check)

    real_run = subprocess.run

    def run(args, *more, **options):
        if isinstance(args, (list, tuple)) and "pip" in [str(a) for a in args]:
            print("rehearsal: not run:", " ".join(str(a) for a in args[1:]))
            return subprocess.CompletedProcess(args, 0)
        return real_run(args, *more, **options)

    subprocess.run = run

    import alexnet.chapters.colab

    alexnet.chapters.colab.DRIVE = drive

    from torchvision.datasets import CIFAR10, Imagenette

    sums = cifar["md5"]
    CIFAR10.url, CIFAR10.tgz_md5 = f"{base_url}/cifar-10-python.tar.gz", sums["archive"]
    CIFAR10.train_list = [[f"data_batch_{i}", sums[f"data_batch_{i}"]] for i in range(1, 6)]
    CIFAR10.test_list = [["test_batch", sums["test_batch"]]]
    CIFAR10.meta = {**CIFAR10.meta, "md5": sums["batches.meta"]}
    Imagenette._ARCHIVES = {**Imagenette._ARCHIVES, "320px": (f"{base_url}/imagenette2-320.tgz", imagenette["md5"])}

    # torchvision's ImageNet weights: a stand-in (untrained weights, the same layers) already in torch's hub cache,
    # where torchvision looks before it downloads
    import os

    import torch
    from torchvision.models import AlexNet_Weights, alexnet

    torch.hub.set_dir(hub)
    cached = os.path.join(hub, "checkpoints", os.path.basename(AlexNet_Weights.IMAGENET1K_V1.url))
    if not os.path.exists(cached):
        os.makedirs(os.path.dirname(cached), exist_ok=True)
        torch.save(alexnet().state_dict(), cached)

    from alexnet.data import downloads

    downloads.PUBLISHED_COUNTS.update(cifar10=cifar["counts"], imagenette=imagenette["counts"])
