"""What a training run costs, said before it starts: its work in FLOPs, a time per GPU class, its activation memory.

Training on one image costs about three forward passes: the forward pass itself, and a backward
pass that forms the gradients with respect to the activations and to the weights, each about
as many multiply-adds as the forward pass. The forward pass's multiply-adds come from the layer
table (:func:`alexnet.nn.arithmetic.layer_table`). A GPU does not reach its data-sheet peak on
AlexNet (small layers, LRN and pooling are bound by memory, the input pipeline waits on JPEGs),
so the times assume :data:`UTILISATION` of the peak: an estimate to plan a session by, which a
measured throughput (``python -m alexnet doctor`` on that GPU) replaces.

Memory: autograd keeps each layer's input for the backward pass, so a batch holds about every
activation of the layer table (:func:`activation_bytes`), per image, at the step's precision;
the parameters take four copies (weights, gradients, momentum, and the fp32 master weights or
the scaler's copy under mixed precision).
"""

from __future__ import annotations

import math

from alexnet.nn.arithmetic import layer_table, totals
from alexnet.training.progress import duration

__all__ = [
    "PEAK_TFLOPS",
    "UTILISATION",
    "training_flops",
    "time_line",
    "activation_bytes",
    "largest_batch",
    "memory_line",
]

# Dense 16-bit tensor-core peak in TFLOPS, from NVIDIA's data sheets: T4 (fp16, 65), L4 (bf16, 121; 242 is
# with sparsity), A100 SXM (bf16, 312), H100 SXM (bf16, 989; 1,979 is with sparsity).
PEAK_TFLOPS = {"T4": 65.0, "L4": 121.0, "A100": 312.0, "H100": 989.0}
UTILISATION = 0.2  # assumed share of the peak (see the module's docstring)


def training_flops(model, images: int, epochs: int, image_size: int | None = None) -> float:
    """FLOPs (a multiply-add counts two) to train ``model`` on ``images`` images of ``image_size`` (default: its
    config's) for ``epochs`` epochs."""
    per_image = 3 * totals(layer_table(model, image_size or model.config.image_size))["flops"]
    return float(per_image) * images * epochs


def time_line(
    model, images: int, epochs: int, image_size: int | None = None, measured: dict[str, float] | None = None
) -> str:
    """One line: the work (images x epochs x GFLOP per image) and the time it takes on each GPU class.

    ``measured`` maps a GPU class to a measured throughput in images/s (e.g. the doctor's), which
    then replaces that class's estimate."""
    flops = training_flops(model, images, epochs, image_size)
    per_image = flops / images / epochs / 1e9
    times = []
    for gpu, peak in PEAK_TFLOPS.items():
        if measured and gpu in measured:
            times.append(f"{gpu} {duration(images * epochs / measured[gpu])} (measured)")
        else:
            times.append(f"{gpu} ~{duration(flops / (peak * 1e12 * UTILISATION))}")
    return (
        f"this run: {images:,} images x {epochs} epochs x {per_image:.2f} GFLOP per image (forward and backward) "
        f"= {flops / 1e15:.2f} PFLOP; at {UTILISATION:.0%} of each GPU's 16-bit peak: {', '.join(times)}"
    )


def activation_bytes(model, bytes_per_value: int = 2) -> int:
    """Bytes of activations one image keeps for the backward pass (every layer's output, at the step's precision)."""
    return totals(layer_table(model, model.config.image_size))["activations"] * bytes_per_value


def _parameter_bytes(model) -> int:
    """Four fp32 copies of every parameter: weights, gradients, momentum, and the master copy under mixed precision."""
    return 4 * 4 * sum(p.numel() for p in model.parameters())


def largest_batch(model, free_bytes: int, bytes_per_value: int = 2, headroom: float = 0.8) -> int:
    """The largest power-of-two batch whose activations and parameter copies fit in ``headroom`` of ``free_bytes``."""
    room = headroom * free_bytes - _parameter_bytes(model)
    per_image = activation_bytes(model, bytes_per_value)
    return 2 ** int(math.log2(room // per_image)) if room >= per_image else 0


def memory_line(model, batch_size: int, free_bytes: int, bytes_per_value: int = 2) -> str:
    """Whether a batch's activations fit in ``free_bytes`` of GPU memory, and the largest batch that does."""
    need = batch_size * activation_bytes(model, bytes_per_value) + _parameter_bytes(model)
    fits = largest_batch(model, free_bytes, bytes_per_value)
    said = f"memory: batch {batch_size} needs about {need / 2**30:.1f} GiB"
    if batch_size <= fits:
        return f"{said} of {free_bytes / 2**30:.1f} GiB free"
    if fits == 0:
        return "memory: not even one image fits; free the GPU first"
    return f"{said} but {free_bytes / 2**30:.1f} GiB is free; lower it to --batch-size {fits} or less"
