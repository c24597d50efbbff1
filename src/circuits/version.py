"""Version information for circuits."""

from __future__ import annotations

__all__ = [
    "__commit_id__",
    "__version__",
    "__version_tuple__",
    "commit_id",
    "version",
    "version_tuple",
]

__version__ = version = "4.0.0.dev0"
__version_tuple__ = version_tuple = (4, 0, 0, "dev0")
__commit_id__ = commit_id = None
