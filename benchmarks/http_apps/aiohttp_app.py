"""aiohttp hello world as an application object, for gunicorn's aiohttp worker.

usage: gunicorn -k aiohttp.GunicornWebWorker -w N -b 127.0.0.1:PORT aiohttp_app:app
The same handler as aiohttp_hello.py (which runs its own server), for workers.sh.
"""

from __future__ import annotations

from aiohttp import web


async def hello(request):
    return web.Response(text="Hello, World!")


app = web.Application()
app.router.add_get("/", hello)
