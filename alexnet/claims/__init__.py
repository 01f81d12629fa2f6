"""The paper's claims about its mechanisms (Sections 3.1-4.2) as experiments: designs, the runner, statistics, recorded evidence.

* ``claim``: what a :class:`Claim` and its :class:`Design` hold; ``designs``: the five claims,
  fixed before anything ran (``CLAIMS``); ``materials``: the data, networks and measures they use
  (``synthetic``, ``photo_patches``, ``epochs_to_25``...); ``wording``: what each claim says;
* ``fit``: the small training loop the claims run, ``seed_everything``, ``format_table`` (the
  four-layer CIFAR-10 network of Figure 1 is :func:`alexnet.nn.four_layer_net`);
* ``runner``: :func:`run_claim` runs a claim over its seeds; ``claims_rows``: the book's table;
* ``statistics``: paired effects, their intervals, how many seeds a claim needs;
* ``evidence``: the recorded runs (``evidence.load``) and the live check against them
  (``evidence.live_run``, ``evidence.check_live``);
* ``mechanisms``: :func:`check_mechanism`, each layer against its section's formula;
* ``secondary``: the sentences that ride on a claim's runs (over-fitting gaps, convergence);
* ``ensemble``: dropout as an ensemble (Section 4.2); ``tolerance``: :func:`within` and :func:`expect`,
  the checked numbers of the chapters.

Every public name of the modules listed at the end is importable from here (``from alexnet.claims import CLAIMS, run_claim``),
and each of those modules is an attribute too, for a chapter that reads one as a
namespace. Each is imported on first use: the claims train networks, and the records need none
of it to be read.
"""

from alexnet._exports import public_names

# the modules whose public names (their __all__) this package gives, searched in this order: cheap ones first
__getattr__, __dir__ = public_names(
    __name__,
    (
        "statistics",
        "tolerance",
        "claim",
        "designs",
        "materials",
        "fit",
        "runner",
        "evidence",
        "mechanisms",
        "secondary",
        "ensemble",
    ),
)
