"""Package version, used in the User-Agent header."""

__version__ = "0.1.0"
