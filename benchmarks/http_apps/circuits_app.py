"""circuits.web hello world for the ``circuits.web`` command (module circuits_app:Root).

usage: python -m circuits.web --workers N --app circuits_app:Root -b 127.0.0.1:PORT DOCROOT,
then GET /hello (with a DOCROOT the command also serves that directory
through Static, which answers / with a listing)
(run from this directory, so each worker can import the module). The same
Controller as circuits_hello.py, for workers.sh.
"""

from __future__ import annotations

from circuits.web import Controller


class Root(Controller):
    def index(self):
        return "Hello, World!"

    def hello(self):
        return "Hello, World!"
