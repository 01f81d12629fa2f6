"""The network and its parts, as Section 3 of the paper describes them; imports only torch.

* the network: :class:`AlexNet`, :func:`build_model`, :class:`AlexNetConfig` and its ``PRESETS``
  (``config``, ``model``);
* its parts: the ReLU and the other units (Section 3.1, ``activations``), the two towers split
  over two devices (Section 3.2, ``towers``), local response normalisation (Section 3.3,
  ``lrn``), the paper's dropout (Section 4.2, ``dropout``), test mode (``modes``);
* the arithmetic of Section 3.5 and Figure 2: output sizes, and per layer shapes, parameters
  and multiply-accumulates (``arithmetic``).

Every public name of the modules listed at the end is importable from here (``from alexnet.nn import build_model, lrn_strength``);
the modules are attributes too, for a chapter that reads one as a namespace
(``from alexnet.nn import lrn``, then ``lrn.local_response_norm``).
"""

from alexnet._exports import public_names

# the modules whose public names (their __all__) this package gives, searched in this order: cheap ones first
__getattr__, __dir__ = public_names(
    __name__, ("config", "model", "activations", "lrn", "dropout", "modes", "towers", "four_layer", "arithmetic")
)
