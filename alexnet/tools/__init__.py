"""Measuring the machine: ``bench`` and ``doctor``.

* ``bench``: training throughput of one device, a plain fp32 loop against the trainer's fast path
  (``bench.bench``), and the paper's LRN written out against torch's kernel (:func:`bench_lrn`);
* ``doctor``: ``python -m alexnet doctor``, every check of the machine in one report (``report``:
  its :class:`Report` and the :class:`Scale` it runs at).

``alexnet.tools.bench`` and ``alexnet.tools.doctor`` name the modules (``python -m alexnet bench``
and ``doctor`` run them), so their functions of the same name are read through them
(``bench.bench``). Every other public name of these modules is importable from here, each
imported on first use: the bench builds networks and runs the trainer's step.
"""

from alexnet._exports import public_names

# the modules whose public names (their __all__) this package gives, searched in this order: cheap ones first
__getattr__, __dir__ = public_names(__name__, ("report", "bench", "doctor"))
