"""A stand-in for ``google.colab``: its presence is how a chapter knows it runs on Colab."""
