"""The package's version, in the vocabulary layer so any room can read it without importing the package's
``__init__`` from below (the User-Agent, the plugin's schema, tarball and server do). pyproject.toml's
``[project] version`` is the same string (tests/test_packaging.py checks the wheel's metadata)."""

__all__ = ["__version__"]

__version__ = "0.1.0"
