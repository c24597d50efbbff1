"""``python -m circuits.web``: the ``circuits.web`` command (see `circuits.web.main`)."""

from __future__ import annotations

from .main import main

main()
