"""Training with the paper's recipe (Section 5): configuration, recipes, SGD, the step, the run's state and checkpoints, the loop, evaluation."""
