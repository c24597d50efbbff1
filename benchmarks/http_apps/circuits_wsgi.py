"""circuits.web Server hosting a plain WSGI app through circuits.web.wsgi.Gateway.
usage: python circuits_wsgi.py PORT

Copied from shared/bench/apps/circuits_wsgi.py (ours to reuse), made ruff-clean for this repo.
"""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from circuits.web.wsgi import Gateway
from wsgi_hello import app as wsgi_app

from circuits.web import Server

port = int(sys.argv[1])
app = Server(("127.0.0.1", port))
Gateway({"/": wsgi_app}).register(app)
app.run()
