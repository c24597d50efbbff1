"""cheroot WSGI server (the one CherryPy uses) hosting wsgi_hello:app.
usage: python cheroot_hello.py PORT

Copied from shared/bench/apps/cheroot_hello.py (ours to reuse), made ruff-clean for this repo.
"""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cheroot import wsgi
from wsgi_hello import app

server = wsgi.Server(("127.0.0.1", int(sys.argv[1])), app)
server.start()
