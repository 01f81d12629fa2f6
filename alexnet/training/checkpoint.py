"""The checkpoint and the metrics of a run folder (:mod:`alexnet.training.run_folder`): safe to load, safe to crash.

* ``checkpoint.pt``, the truth: the network, the optimiser, the schedule, the random-number
  states and the per-epoch history. It is written to a fresh temporary file in the same folder
  (:func:`tempfile.mkstemp`, so a planted file or link there is never followed), flushed to the
  disk (``fsync``) and only then renamed over the old one: a crash, Ctrl-C, SIGTERM or a full
  disk at any moment leaves either the old checkpoint or the new one, never half of one.
* ``metrics.jsonl``, one line per epoch, derived from the checkpoint's history. It is written
  *after* the checkpoint, and rewritten from the checkpoint at every start and resume, so a
  crash between the two writes loses no epoch's record.

Loading never runs code from the file: ``torch.load(..., weights_only=True)`` rebuilds only
tensors and plain containers, so a downloaded checkpoint is as safe to open as an image.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import random
import re
import shutil
import tempfile
import warnings
from pathlib import Path
from typing import Any

import torch

from alexnet.training.errors import TrainingError
from alexnet.training.run_folder import CHECKPOINT_NAME, METRICS_NAME

__all__ = [
    "CHECKPOINT_FORMAT",
    "load_checkpoint",
    "save_checkpoint",
    "write_metrics",
    "read_metrics",
    "model_from_checkpoint",
    "rng_states",
    "set_rng_states",
]

# 1: random-number states as Python/numpy objects; 2: as tensors and plain types, plus the CPU thread count;
# 3: the network's input convention and the training set's mean image ("inputs") instead of a mean RGB
CHECKPOINT_FORMAT = 3
REQUIRED_KEYS = (
    "epoch",
    "config",
    "model_config",
    "model",
    "optimizer",
    "scheduler",
    "rng",
    "history",
    "inputs",
    "classes",
)


# ----------------------------------------------------------------------------- random-number states


def rng_states() -> dict[str, Any]:
    """Every random-number state a run draws from, as tensors and plain Python values (loadable with weights_only)."""
    import numpy as np

    numpy_state = np.random.get_state(legacy=False)
    states: dict[str, Any] = {
        "python": random.getstate(),  # (version, tuple of ints, float or None)
        "torch": torch.get_rng_state(),
        "numpy": {
            "bit_generator": numpy_state["bit_generator"],
            "key": torch.from_numpy(numpy_state["state"]["key"].astype(np.int64)),
            "pos": int(numpy_state["state"]["pos"]),
            "has_gauss": int(numpy_state["has_gauss"]),
            "gauss": float(numpy_state["gauss"]),
        },
    }
    if torch.cuda.is_available():
        states["cuda"] = torch.cuda.get_rng_state_all()
    return states


def set_rng_states(states: dict[str, Any]) -> None:
    """Restore what :func:`rng_states` saved (also the numpy tuple of format-1 checkpoints)."""
    try:
        _set_rng_states(states)
    except (KeyError, TypeError, ValueError, AttributeError, RuntimeError) as e:
        raise TrainingError(
            f"the checkpoint's random-number states ('rng') are damaged ({type(e).__name__}: {e}); "
            "use another copy, or start a new run"
        ) from None


def _set_rng_states(states: dict[str, Any]) -> None:
    import numpy as np

    random.setstate(_tuples(states["python"]))
    torch.set_rng_state(states["torch"])
    saved = states.get("numpy")
    if isinstance(saved, dict):
        key = saved["key"].numpy().astype(np.uint32)
        np.random.set_state((saved["bit_generator"], key, saved["pos"], saved["has_gauss"], saved["gauss"]))
    elif saved is not None:
        np.random.set_state(saved)
    if "cuda" in states and torch.cuda.is_available() and len(states["cuda"]) == torch.cuda.device_count():
        torch.cuda.set_rng_state_all(states["cuda"])


def _tuples(x: Any) -> Any:
    return tuple(_tuples(v) for v in x) if isinstance(x, (list, tuple)) else x


# ----------------------------------------------------------------------------- writing


def _temporary(path: Path) -> tuple[int, Path]:
    """A new, private file beside ``path`` (O_EXCL: never an existing file or link)."""
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    return fd, Path(name)


def _atomic_write(path: Path, write) -> None:
    """``write(binary file)`` into a temporary file beside ``path``, fsync, rename; no temporary file survives a failure."""
    fd, tmp = _temporary(path)
    try:
        with open(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    with contextlib.suppress(OSError):  # make the rename itself durable (not possible on every filesystem)
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def _disk_full(error: BaseException) -> bool:
    """ENOSPC/EDQUOT, or the message torch's zip writer gives when a write comes up short."""
    while error is not None:
        if isinstance(error, OSError) and error.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
        text = str(error)
        if "unexpected pos" in text or "file write failed" in text:
            return True
        error = error.__cause__ or error.__context__
    return False


def _free_mb(folder: Path) -> str:
    try:
        return f"{shutil.disk_usage(folder).free / 2**20:,.0f} MB free"
    except OSError:
        return "free space unknown"


def save_checkpoint(state: dict[str, Any], out: Path, kept_epoch: int | None = None) -> None:
    """Write ``OUT/checkpoint.pt`` atomically; a full disk is a :class:`TrainingError` that says what is kept."""
    try:
        _atomic_write(out / CHECKPOINT_NAME, lambda f: torch.save(state, f))
    except Exception as error:
        if not _disk_full(error):
            raise
        kept = f"the last good checkpoint (epoch {kept_epoch}) is kept" if kept_epoch else "no checkpoint was kept"
        raise TrainingError(
            f"the disk holding {out} is full ({_free_mb(out)}): epoch {state.get('epoch')} could not be saved; "
            f"{kept}. Free some space and continue with --resume"
        ) from None


def write_metrics(history: list[dict[str, Any]], out: Path) -> None:
    """``OUT/metrics.jsonl`` from a checkpoint's history (written after the checkpoint, atomically)."""
    text = "".join(json.dumps(record) + "\n" for record in history)
    try:
        _atomic_write(out / METRICS_NAME, lambda f: f.write(text.encode()))
    except Exception as error:
        if not _disk_full(error):
            raise
        raise TrainingError(
            f"the disk holding {out} is full ({_free_mb(out)}): {METRICS_NAME} could not be written; the checkpoint "
            "is saved and --resume rewrites the metrics from it once there is space"
        ) from None


# ----------------------------------------------------------------------------- reading


def load_checkpoint(path: str | os.PathLike, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Read a checkpoint written by :func:`alexnet.training.loop.train` (a file, or the ``OUT`` folder that holds one).

    Only tensors and plain Python values are rebuilt (``weights_only=True``): a file that asks
    for anything else, e.g. to run code, is refused with a :class:`TrainingError` before any of
    it runs. Format-1 checkpoints held numpy random states; exactly the three numpy names those
    need are allowed.
    """
    path = Path(path)
    if path.is_dir():
        path = path / CHECKPOINT_NAME
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {path}: expected a file written by `alexnet train --out DIR`")
    try:
        with torch.serialization.safe_globals(_numpy_globals()), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch's notes on pickle protocols: our message says it all
            checkpoint = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as e:  # a truncated, foreign or crafted file
        text = str(e)
        refused = re.search(r"GLOBAL ([\w.]+)", text) or re.search(r"[Uu]nsupported global:? *([\w.]+)", text)
        if refused:
            raise TrainingError(
                f"{path} is refused: it asks for {refused.group(1)}, which a checkpoint never needs "
                "(only tensors and plain values are loaded); nothing in it was run"
            ) from None
        first = text.strip().splitlines()[0] if text.strip() else ""
        if "weights only load failed" in text.lower():
            first = "not a torch.save archive of tensors and plain values; nothing in it was run"
        raise TrainingError(
            f"{path} is not a readable checkpoint ({first}): truncated, damaged or foreign; use another copy, or retrain"
        ) from None
    check_checkpoint(checkpoint, path)
    return checkpoint


def _numpy_globals() -> list:
    """The numpy names a format-1 checkpoint's numpy random state needs, and nothing else."""
    import numpy as np

    try:
        from numpy._core.multiarray import _reconstruct
    except ImportError:  # numpy < 2
        from numpy.core.multiarray import _reconstruct
    return [_reconstruct, np.ndarray, np.dtype, type(np.dtype(np.uint32))]


def check_checkpoint(checkpoint: Any, path: Path | str) -> None:
    """A :class:`TrainingError` unless ``checkpoint`` is a whole checkpoint of a format this alexnet reads."""
    if not isinstance(checkpoint, dict) or not isinstance(checkpoint.get("format"), int):
        raise TrainingError(f"{path} is not a checkpoint written by alexnet.training.loop (no format number)")
    if checkpoint["format"] > CHECKPOINT_FORMAT:
        raise TrainingError(
            f"{path} was written by a newer alexnet (checkpoint format {checkpoint['format']}; this one reads up to "
            f"{CHECKPOINT_FORMAT}): upgrade alexnet (pip install -U) to read it"
        )
    if checkpoint["format"] < 1:
        raise TrainingError(f"{path} has an unknown checkpoint format {checkpoint['format']!r}")
    missing = [k for k in REQUIRED_KEYS if k not in checkpoint]
    if missing == ["inputs"] and "mean" in checkpoint:
        raise TrainingError(
            f"{path} was written by an older alexnet (a mean RGB on the [0, 1] scale, before the paper's input "
            "convention and dropout places of checkpoint format 3): retrain, or evaluate it with that version"
        )
    if missing:
        raise TrainingError(
            f"{path} lacks {', '.join(repr(k) for k in missing)}: it is not a whole checkpoint of alexnet.training.loop "
            "(edited or damaged); use another copy, or retrain"
        )
    if not isinstance(checkpoint["model"], dict) or not all(
        isinstance(v, torch.Tensor) for v in checkpoint["model"].values()
    ):
        raise TrainingError(f"{path}: 'model' must map layer names to tensors")
    if not isinstance(checkpoint["epoch"], int) or not isinstance(checkpoint["history"], list):
        raise TrainingError(f"{path}: 'epoch' must be an integer and 'history' a list of per-epoch records")
    if not isinstance(checkpoint["config"], dict) or not isinstance(checkpoint["model_config"], dict):
        raise TrainingError(f"{path}: 'config' and 'model_config' must be dictionaries")
    inputs = checkpoint["inputs"]
    if not isinstance(inputs, dict) or not isinstance(inputs.get("convention"), str):
        raise TrainingError(f"{path}: 'inputs' must hold the input convention and mean image (ModelInput.state())")


def model_from_checkpoint(checkpoint: dict[str, Any], device: str | torch.device = "cpu"):
    """Rebuild the trained network of a checkpoint, in eval mode."""
    from alexnet.nn.config import AlexNetConfig
    from alexnet.nn.model import AlexNet

    options = dict(checkpoint["model_config"])
    options["conv_channels"] = tuple(options.get("conv_channels", ()))
    try:
        model = AlexNet(AlexNetConfig(**options))
    except (TypeError, ValueError) as e:
        raise TrainingError(f"the checkpoint's model_config is not a valid AlexNetConfig: {e}") from None
    try:
        model.load_state_dict(checkpoint["model"])
    except RuntimeError as e:
        detail = " ".join(str(e).split())[:300]
        raise TrainingError(
            f"the checkpoint's weights do not match its model_config (edited or damaged checkpoint): {detail}"
        ) from None
    return model.to(device).eval()


def read_metrics(out: str | os.PathLike) -> list[dict[str, Any]]:
    """The per-epoch records of ``OUT/metrics.jsonl``."""
    path = Path(out) / METRICS_NAME
    if not path.is_file():
        raise FileNotFoundError(f"no metrics at {path}: expected the output folder of a training run")
    records = []
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if line.strip():
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError:
                raise ValueError(
                    f"{path}, line {number}, is not JSON: the file is damaged; `alexnet train --resume` with the "
                    "run's options rewrites it from the checkpoint"
                ) from None
    return records
