"""cvid: a phased, verifiable, irreversible disarmament road map as a public log."""

from cvid.errors import Error

__version__ = "0.1.0"
__all__ = ["Error", "__version__"]
