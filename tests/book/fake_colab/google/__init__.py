"""A stand-in for Colab's ``google`` package, put on the path of a rehearsal kernel by tests/book/test_rehearsal.py."""
