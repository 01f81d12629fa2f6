"""Google Colab: whether a chapter runs there, and a run folder on Google Drive that outlives the session.

A Colab session ends after some hours (or when the browser is idle), and with it the machine's
disk; a training run whose checkpoints are on Drive resumes in the next session (``resume=True``).
"""

from __future__ import annotations

import sys
from pathlib import Path

__all__ = ["DRIVE", "on_colab", "drive_folder"]

DRIVE = "/content/drive"  # where the chapters mount Google Drive on Colab


def on_colab() -> bool:
    """True inside a Colab runtime (its ``google.colab`` module is loaded there)."""
    return "google.colab" in sys.modules


def drive_folder(name: str) -> Path:
    """Mount Google Drive (Colab asks for permission the first time) and return ``MyDrive/alexnet-runs/NAME`` on it."""
    from google.colab import drive

    drive.mount(DRIVE)
    return Path(DRIVE) / "MyDrive" / "alexnet-runs" / name
