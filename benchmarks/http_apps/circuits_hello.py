"""circuits.web hello world: a Controller returning "Hello, World!".
usage: python circuits_hello.py PORT [STATIC_DIR]
With STATIC_DIR, files under it are also served at /static/ (circuits.web Static).

Copied from shared/bench/apps/circuits_hello.py (ours to reuse), made ruff-clean for this repo.
Static is imported only when STATIC_DIR is given, and its absence is
reported on stderr, so the hello and mem tests run without it.
"""

from __future__ import annotations

import sys

from circuits.web import Controller, Server


class Root(Controller):
    def index(self):
        return "Hello, World!"


port = int(sys.argv[1])
app = Server(("127.0.0.1", port))
Root().register(app)
if len(sys.argv) > 2:
    try:
        from circuits.web import Static
    except ImportError as exc:
        print(f"circuits_hello: no static files ({exc})", file=sys.stderr)
    else:
        Static("/static", docroot=sys.argv[2]).register(app)
app.run()
