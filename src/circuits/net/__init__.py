"""Networking: socket components (``circuits.net.sockets``) and their events."""

from __future__ import annotations
