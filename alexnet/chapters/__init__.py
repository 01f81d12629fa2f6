"""What the chapters use beside the package proper: figures, diagrams, the paper's published numbers, quick/full mode, Colab, torchvision's pretrained weights.

* ``mode``: quick or full mode (:func:`is_quick`, :func:`pick`, :func:`mode_name`) and the
  machine a chapter ran on (:func:`hardware`);
* ``plots``: the chapters' figures and HTML tables; ``diagrams``: the two towers drawn;
* ``published``: the paper's published numbers, typed in once (``PAPER_RESULTS``, ``PAPER_ABLATIONS``...);
* ``colab``: Google Drive on Colab; ``pretrained``: torchvision's ImageNet weights.

Every public name of the modules listed at the end is importable from here (``from alexnet.chapters import is_quick, plot_band``).
Each is imported on first use: importing this package loads neither matplotlib nor torchvision.
"""

from alexnet._exports import public_names

# the modules whose public names (their __all__) this package gives, searched in this order: cheap ones first
__getattr__, __dir__ = public_names(
    __name__, ("mode", "colab", "published", "pretrained", "diagrams", "plots", "mechanism_plots", "training_plots")
)
