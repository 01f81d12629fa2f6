"""The tests, one folder per subpackage of ``alexnet`` (nn, data, training, claims, tools, cli, chapters) and book/ for
the checks of the book itself. Every folder is a package, so that two folders may hold test modules of the same name
(tests/nn/test_config.py and tests/training/test_config.py); a folder's helpers are imported relatively
(``from . import standins``)."""
