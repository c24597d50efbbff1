"""cheroot WSGI server (the one CherryPy uses) hosting wsgi_hello:app.
usage: python cheroot_hello.py PORT

Copied from shared/bench/apps/cheroot_hello.py (ours to reuse), made ruff-clean for this repo.
"""

from __future__ import annotations

import importlib
import sys

from cheroot import wsgi

# wsgi_hello.py sits next to this script (its directory is on sys.path).
app = importlib.import_module("wsgi_hello").app

server = wsgi.Server(("127.0.0.1", int(sys.argv[1])), app)
server.start()
