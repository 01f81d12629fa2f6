"""AlexNet, reproduced: the package behind the book.

Its subpackages, one idea each:

* :mod:`alexnet.nn`: the network and its parts (Section 3): the model, LRN, dropout, the two towers,
  the four-layer CIFAR-10 network, shape/parameter/MAC arithmetic. Imports only torch.
* :mod:`alexnet.data`: datasets, downloads, the input convention (Section 2), augmentation (Section 4.1).
* :mod:`alexnet.training`: the paper's recipe (Section 5): configuration, SGD, the loop, evaluation,
  checkpoints.
* :mod:`alexnet.claims`: the mechanism chapters' experiments, their statistics and recorded evidence.
* :mod:`alexnet.tools`: ``bench`` and ``doctor``; :mod:`alexnet.cli`: ``python -m alexnet``.
* :mod:`alexnet.chapters`: figures, the paper's published numbers, quick/full mode, Colab.

``alexnet.lrn``, ``alexnet.arithmetic`` and ``alexnet.evaluate`` keep naming the modules the
project's public contract names (:mod:`alexnet.nn.lrn`, :mod:`alexnet.nn.arithmetic`,
:mod:`alexnet.training.evaluate`); they are the same module objects, imported on first use.
"""

import importlib
import importlib.abc
import importlib.util
import sys

__version__ = "0.1.0"
__all__ = ["AlexNet", "AlexNetConfig", "build_model", "LocalResponseNorm", "local_response_norm", "__version__"]

_LAZY = {
    "AlexNet": "alexnet.nn.model",
    "AlexNetConfig": "alexnet.nn.config",
    "build_model": "alexnet.nn.model",
    "LocalResponseNorm": "alexnet.nn.lrn",
    "local_response_norm": "alexnet.nn.lrn",
}
_CONTRACT = {"lrn": "alexnet.nn.lrn", "arithmetic": "alexnet.nn.arithmetic", "evaluate": "alexnet.training.evaluate"}


class _ContractModules(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """``import alexnet.lrn`` gives the module :mod:`alexnet.nn.lrn` itself (not a copy)."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname.startswith("alexnet.") and fullname[len("alexnet.") :] in _CONTRACT:
            return importlib.util.spec_from_loader(fullname, self)
        return None

    def create_module(self, spec):
        module = importlib.import_module(_CONTRACT[spec.name[len("alexnet.") :]])
        spec.loader_state = module.__spec__  # the import machinery sets __spec__ to this alias's; put it back
        return module

    def exec_module(self, module) -> None:
        module.__spec__ = module.__spec__.loader_state


if not any(isinstance(f, _ContractModules) for f in sys.meta_path):
    sys.meta_path.append(_ContractModules())


def __getattr__(name: str):
    """Import torch only when a name that needs it is used: `python -m alexnet` handles Ctrl-C from its first line."""
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    if name in _CONTRACT:
        return importlib.import_module(_CONTRACT[name])
    raise AttributeError(f"module 'alexnet' has no attribute {name!r}")
