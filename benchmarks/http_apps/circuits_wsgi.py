"""circuits.web Server hosting a plain WSGI app through circuits.web.wsgi.Gateway.
usage: python circuits_wsgi.py PORT

Copied from shared/bench/apps/circuits_wsgi.py (ours to reuse), made ruff-clean for this repo.
"""

from __future__ import annotations

import importlib
import sys

from circuits.web import Server
from circuits.web.wsgi import Gateway

# wsgi_hello.py sits next to this script (its directory is on sys.path).
wsgi_app = importlib.import_module("wsgi_hello").app

port = int(sys.argv[1])
app = Server(("127.0.0.1", port))
Gateway({"/": wsgi_app}).register(app)
app.run()
