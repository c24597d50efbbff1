"""A tiny raw ASGI app for uvicorn (module asgi_hello:app), and a starlette app
serving files for the static test (asgi_hello:static_app, STATIC_DIR from env).

Copied from shared/bench/apps/asgi_hello.py (ours to reuse), made ruff-clean for this repo.
"""

from __future__ import annotations

import os

BODY = b"Hello, World!"
START = {
    "type": "http.response.start",
    "status": 200,
    "headers": [(b"content-type", b"text/plain"), (b"content-length", b"13")],
}
END = {"type": "http.response.body", "body": BODY}


async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    await send(START)
    await send(END)


def _static():
    from starlette.applications import Starlette
    from starlette.routing import Mount
    from starlette.staticfiles import StaticFiles

    return Starlette(
        routes=[Mount("/static", StaticFiles(directory=os.environ.get("STATIC_DIR", ".")))]
    )


static_app = _static() if os.environ.get("STATIC_DIR") else None
