"""AlexNet, reproduced: the package behind the book.

The network (:mod:`alexnet.model`), the paper's local response normalisation
(:mod:`alexnet.lrn`), the shape/parameter/MAC arithmetic (:mod:`alexnet.arithmetic`), error
rates (:mod:`alexnet.evaluate`) and the chapters' quick/full mode (:mod:`alexnet.mode`).
"""

from alexnet.lrn import LocalResponseNorm, local_response_norm
from alexnet.model import AlexNet, AlexNetConfig, build_model

__version__ = "0.1.0"
__all__ = ["AlexNet", "AlexNetConfig", "build_model", "LocalResponseNorm", "local_response_norm", "__version__"]
