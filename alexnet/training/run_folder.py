"""The run folder that ``train --out DIR`` writes, and the one run that may write it.

A run folder holds three files of ours: ``checkpoint.pt`` (the truth, :mod:`alexnet.training.checkpoint`),
``metrics.jsonl`` (one line per epoch, derived from the checkpoint) and ``.lock``, held with
``fcntl.flock`` by the one run that writes the folder; it names that run's process id and command, so a
second run into the same folder refuses and says whose it is. A folder that already holds a run's
checkpoint is continued only with ``resume`` (:func:`refuse_to_overwrite`), whether the run was started
from Python or from the command line.
"""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

from alexnet.training.errors import TrainingError

__all__ = [
    "CHECKPOINT_NAME",
    "METRICS_NAME",
    "LOCK_NAME",
    "holds_a_run",
    "refuse_to_overwrite",
    "remove_stale_temporaries",
    "RunFolder",
]

CHECKPOINT_NAME = "checkpoint.pt"
METRICS_NAME = "metrics.jsonl"
LOCK_NAME = ".lock"


def holds_a_run(out: str | os.PathLike) -> bool:
    """Does the folder ``out`` hold the checkpoint of a run?"""
    return (Path(out) / CHECKPOINT_NAME).is_file()


def refuse_to_overwrite(
    out: str | os.PathLike | None,
    resume: bool,
    what_to_do: str = "continue it with resume=True (--resume), or choose another output folder (--out)",
    error: type[Exception] = TrainingError,
) -> None:
    """A run into a folder that already holds a run continues it (``resume``) or is refused with ``error``,
    saying ``what_to_do``: a second run would overwrite the first one's checkpoint."""
    if out and not resume and holds_a_run(out):
        raise error(f"{out} already holds the checkpoint of a run: {what_to_do}")


def remove_stale_temporaries(out: Path) -> list[Path]:
    """Delete temporary files our writers left in ``out`` after a crash (call only while holding the lock)."""
    removed = []
    for name in (CHECKPOINT_NAME, METRICS_NAME):
        # today's mkstemp names (.checkpoint.pt.XXXXXXXX.tmp) and the older .checkpoint.pt.tmpPID
        for pattern in (f".{name}.*.tmp", f".{name}.tmp*"):
            for path in out.glob(pattern):
                if path.is_symlink() or path.is_file():  # unlink never follows a link
                    path.unlink(missing_ok=True)
                    removed.append(path)
    return removed


class RunFolder:
    """Holds ``OUT/.lock`` for the duration of a run; checks on entry that the folder can be written.

    ``with RunFolder(out):`` makes ``out`` (and its parents) if needed, refuses a path that is a
    file or cannot be written, refuses a folder another run holds (naming its pid and command),
    and removes temporary files that a crashed run of ours left.
    """

    def __init__(self, out: str | os.PathLike) -> None:
        self.out = Path(out)
        self._fd: int | None = None

    def __enter__(self) -> RunFolder:
        out = self.out
        if out.exists() and not out.is_dir():
            raise TrainingError(f"--out {out} is a file, not a folder: choose a folder for checkpoint.pt and metrics")
        lock = out / LOCK_NAME
        try:
            out.mkdir(parents=True, exist_ok=True)
            # O_NOFOLLOW: a link planted at OUT/.lock must not make the truncation below reach the file it names
            fd = os.open(
                lock, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0), 0o644
            )
        except OSError as e:
            if lock.is_symlink():
                raise TrainingError(
                    f"{lock} is a symbolic link, not the run's lock file: remove it (the file it points to is untouched)"
                ) from None
            if lock.exists() and not lock.is_file():
                raise TrainingError(
                    f"{lock} is not a regular file: remove it; a run writes its own lock file there"
                ) from None
            raise TrainingError(
                f"cannot write to --out {out} ({e.strerror or e}): choose a folder you can write to"
            ) from None
        if not stat.S_ISREG(os.fstat(fd).st_mode):  # a folder, a FIFO or a device where the lock file belongs
            os.close(fd)
            raise TrainingError(f"{lock} is not a regular file: remove it; a run writes its own lock file there")
        try:
            import fcntl
        except ImportError:  # Windows: no advisory locks; the folder is used unlocked
            fcntl = None
        if fcntl is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = os.pread(fd, 4096, 0).decode(errors="replace").strip() or "another process"
                os.close(fd)
                raise TrainingError(
                    f"--out {out} is in use by another run ({holder}); wait for it to end, or choose another --out"
                ) from None
            except OSError:  # a filesystem without locks (some network drives): go on unlocked
                pass
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"pid {os.getpid()}: {' '.join(sys.argv) or 'python'}".encode(), 0)
        except OSError as e:
            os.close(fd)
            raise TrainingError(
                f"cannot write to --out {out} ({e.strerror or e}): choose a folder you can write to"
            ) from None
        self._fd = fd
        remove_stale_temporaries(out)
        return self

    def __exit__(self, *exc) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing releases the flock
            self._fd = None
