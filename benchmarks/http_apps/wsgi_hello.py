"""A plain WSGI hello-world app shared by the WSGI servers (module wsgi_hello:app).

Copied from shared/bench/apps/wsgi_hello.py (ours to reuse), made ruff-clean for this repo.
"""

from __future__ import annotations

BODY = b"Hello, World!"
HEADERS = [("Content-Type", "text/plain"), ("Content-Length", str(len(BODY)))]


def app(environ, start_response):
    start_response("200 OK", list(HEADERS))
    return [BODY]
