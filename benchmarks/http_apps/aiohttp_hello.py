"""aiohttp hello world. usage: python aiohttp_hello.py PORT [STATIC_DIR]

Copied from shared/bench/apps/aiohttp_hello.py (ours to reuse), made ruff-clean for this repo.
"""

from __future__ import annotations

import sys

from aiohttp import web


async def hello(request):
    return web.Response(text="Hello, World!")


app = web.Application()
app.router.add_get("/", hello)
if len(sys.argv) > 2:
    app.router.add_static("/static/", sys.argv[2])
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), access_log=None, print=None)
