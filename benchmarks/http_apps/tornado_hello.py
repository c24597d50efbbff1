"""tornado hello world. usage: python tornado_hello.py PORT [STATIC_DIR]

Copied from shared/bench/apps/tornado_hello.py (ours to reuse), made ruff-clean for this repo.
"""

from __future__ import annotations

import asyncio
import sys

import tornado.web


class Hello(tornado.web.RequestHandler):
    def get(self):
        self.write("Hello, World!")


async def main():
    handlers = [(r"/", Hello)]
    if len(sys.argv) > 2:
        handlers.append((r"/static/(.*)", tornado.web.StaticFileHandler, {"path": sys.argv[2]}))
    app = tornado.web.Application(handlers)
    app.listen(int(sys.argv[1]), address="127.0.0.1")
    await asyncio.Event().wait()


asyncio.run(main())
