"""AlexNet, reproduced: the package behind the book.

The network (:mod:`alexnet.model`), the paper's local response normalisation
(:mod:`alexnet.lrn`), the shape/parameter/MAC arithmetic (:mod:`alexnet.arithmetic`), error
rates (:mod:`alexnet.evaluate`) and the chapters' quick/full mode (:mod:`alexnet.mode`).
"""

__version__ = "0.1.0"
__all__ = ["AlexNet", "AlexNetConfig", "build_model", "LocalResponseNorm", "local_response_norm", "__version__"]

_LAZY = {
    "AlexNet": "alexnet.model",
    "AlexNetConfig": "alexnet.model",
    "build_model": "alexnet.model",
    "LocalResponseNorm": "alexnet.lrn",
    "local_response_norm": "alexnet.lrn",
}


def __getattr__(name: str):
    """Import torch only when a name that needs it is used: `python -m alexnet` handles Ctrl-C from its first line."""
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'alexnet' has no attribute {name!r}")
