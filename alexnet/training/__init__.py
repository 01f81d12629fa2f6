"""Training with the paper's recipe (Section 5): configuration, recipes, SGD, the step, the run's state and checkpoints, the loop, evaluation.

* ``config``: :class:`TrainConfig`, one run (Section 5's recipe at the paper's scale by default);
  ``recipes``: the runs the book makes (``recipes.PAPER``, ``recipes.CHAPTER_8_QUICK``...);
* ``sgd``: :class:`PaperSGD`, Section 5's update written out, and the learning-rate schedule;
* ``step``: :class:`TrainStep`, one training step on the device's fast path;
* ``loop``: :func:`train`, the whole run; ``state`` holds a run between epochs; ``checkpoint``
  saves and resumes it and writes its metrics;
* ``evaluate``: top-k error, one-crop and ten-crop predictions (Section 4.1), fc7 features;
* ``timing``: :func:`time_call`; ``distributed``: the device and several processes; ``cost``:
  what a run costs in time and memory.

Every public name of the modules listed at the end is importable from here (``from alexnet.training import train``) and
``recipes`` is an attribute too. Each is imported on first use: the command line reads
``alexnet.training.config`` and ``alexnet.training.recipes`` to print its help, and must not
load the trainer (``loop``, ``state``, ``sgd``) for that.
"""

from alexnet._exports import public_names

# the modules whose public names (their __all__) this package gives, searched in this order: cheap ones first
__getattr__, __dir__ = public_names(
    __name__,
    (
        "config",
        "recipes",
        "timing",
        "evaluate",
        "errors",
        "checkpoint",
        "run_folder",
        "distributed",
        "cost",
        "sgd",
        "step",
        "loop",
    ),
)
