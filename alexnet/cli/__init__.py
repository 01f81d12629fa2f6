"""``python -m alexnet``: the command line."""
