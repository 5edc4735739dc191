"""tufkit: secure software distribution with TUF, a content trust service and in-toto."""

__version__ = "0.1.0"
