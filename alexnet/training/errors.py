"""The one error a training run ends with when the person who started it can fix the cause (Section 5's runs)."""

from __future__ import annotations

__all__ = ["TrainingError"]


class TrainingError(RuntimeError):
    """A run that cannot go on, with a message meant for the person who started it (no traceback)."""
