"""Measuring the machine: ``bench`` and ``doctor``."""
