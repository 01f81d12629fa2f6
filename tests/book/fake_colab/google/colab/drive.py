"""A stand-in for ``google.colab.drive``: "mounting" makes the folder, as a mounted Drive has ``MyDrive`` in it."""

from pathlib import Path


def mount(mountpoint: str, force_remount: bool = False, timeout_ms: int = 120000, readonly: bool = False) -> None:
    Path(mountpoint, "MyDrive").mkdir(parents=True, exist_ok=True)
    print(f"Mounted at {mountpoint}")
