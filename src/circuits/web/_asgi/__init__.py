"""The ASGI 3.0 bridge behind `circuits.web.asgi` (the public names live there)."""

from __future__ import annotations
