"""The access log: Combined Log Format lines per response (web.md §18)."""

from __future__ import annotations

import http.client
import io
import logging
import re
import threading

import pytest
from web_harness import started

from circuits import BaseComponent, handler
from circuits.web import Logger as WebLogger, Server
from circuits.web.headers import Headers
from circuits.web.loggers import Logger, formattime
from circuits.web.wrappers import Request, Response

ACCESS = "circuits.web.access"
LINE = re.compile(
    r"^(?P<h>\S+) - (?P<u>\S+) \[\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d\] "
    r'"(?P<r>[^"]*)" (?P<s>\d{3}) (?P<b>\S+) "(?P<f>.*)" "(?P<a>.*)"$'
)


class Hello(BaseComponent):
    channel = "web"

    @handler("request")
    def _on_request(self, req, res):
        if req.path == "/boom":
            raise ValueError("secret detail")
        return "Hello World!"


@pytest.fixture
def server():
    srv = Server(("127.0.0.1", 0))
    with started(srv, Hello()) as m:
        yield m, srv


def _get(port, path="/", headers=None, method="GET"):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        c.request(method, path, headers=headers or {})
        r = c.getresponse()
        return r.status, r.read()
    finally:
        c.close()


class Lines(logging.Handler):
    """Collects the access lines and signals each one (the loop runs in its own thread).

    Installed on the root logger from the test body, so after caplog's handler: when
    it has seen a record, caplog has too.
    """

    def __init__(self):
        super().__init__()
        self.records = []
        self.cond = threading.Condition()

    def emit(self, record):
        if record.name != ACCESS:
            return
        with self.cond:
            self.records.append(record)
            self.cond.notify_all()

    def wait(self, n):
        with self.cond:
            assert self.cond.wait_for(lambda: len(self.records) >= n, 5), self.records
        return [r.getMessage() for r in self.records]


@pytest.fixture
def lines():
    h = Lines()
    yield h
    logging.getLogger().removeHandler(h)


def test_formattime():
    assert re.fullmatch(r"\[\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d\]", formattime())


def test_exported_and_defaults():
    assert WebLogger is Logger
    logger = Logger()
    assert logger.channel == "web"
    assert logger.logger is logging.getLogger(ACCESS)
    assert Logger.format == '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s"'


def test_access_log_default(server, caplog, lines):
    m, srv = server
    Logger().register(m)
    caplog.set_level(logging.INFO, logger=ACCESS)
    logging.getLogger().addHandler(lines)
    headers = {"User-Agent": "tester/1.0", "Referer": "http://example.com/from"}
    assert _get(srv.port, "/path?q=1", headers) == (200, b"Hello World!")
    (line,) = lines.wait(1)
    match = LINE.match(line)
    assert match, line
    assert match["h"] == "127.0.0.1"
    assert match["u"] == "-"
    assert match["r"] == "GET /path HTTP/1.1"
    assert match["s"] == "200"
    assert match["b"] == "12"
    assert match["f"] == "http://example.com/from"
    assert match["a"] == "tester/1.0"
    (record,) = [r for r in caplog.records if r.name == ACCESS]
    assert record.levelno == logging.INFO
    assert record.args["s"] == 200
    assert record.args["r"] == "GET /path HTTP/1.1"


def test_error_and_escaping(server, caplog, lines):
    m, srv = server
    Logger().register(m)
    caplog.set_level(logging.INFO, logger=ACCESS)
    logging.getLogger().addHandler(lines)
    status, _ = _get(srv.port, "/boom", {"User-Agent": 'evil"\\agent\u00e9'})
    assert status == 500
    got = lines.wait(1)
    match = LINE.match(got[0])
    assert match, got
    assert match["s"] == "500"
    assert match["a"] == 'evil\\"\\\\agent\u00e9'
    assert "\n" not in got[0]


class Flushed(io.StringIO):
    def __init__(self):
        super().__init__()
        self.flushed = threading.Event()

    def flush(self):
        super().flush()
        self.flushed.set()


def test_file_object(server):
    m, srv = server
    out = Flushed()
    Logger(file=out).register(m)
    assert _get(srv.port, "/", {"User-Agent": "ua"})[0] == 200
    assert out.flushed.wait(5), "no line flushed"
    text = out.getvalue()
    assert text.endswith("\n")
    assert LINE.match(text.rstrip("\n")), text
    assert '"GET / HTTP/1.1" 200 12 "" "ua"' in text


def _response(method="GET", path="/x", headers=(), login=None, status=200):
    class Sock:
        def getpeername(self):
            return ("10.1.2.3", 4444)

    req = Request(Sock(), method, path=path, headers=Headers([("Host", "h"), *headers]))
    req.login = login
    res = Response(req, status=status)
    res.headers["Content-Length"] = "5"
    return res


def test_path_file_appends_and_flushes(tmp_path):
    path = tmp_path / "access.log"
    path.write_text("old\n")
    logger = Logger(file=str(path))
    try:
        logger.log(_response())
        with open(path) as f:  # a separate handle sees the flushed line
            text = f.read()
    finally:
        logger.close()
    first, second = text.splitlines()
    assert first == "old"
    assert LINE.match(second)
    assert second.startswith("10.1.2.3 - - [")
    assert '"GET /x HTTP/1.1" 200 5 "" ""' in second


def test_logger_argument_gets_line():
    class Sink:
        def __init__(self):
            self.msgs = []

        def info(self, msg):
            self.msgs.append(msg)

    sink = Sink()
    out = io.StringIO()
    Logger(file=out, logger=sink).log(_response(login="bob", status=404))
    assert out.getvalue() == ""
    (msg,) = sink.msgs
    assert not msg.endswith("\n")
    assert msg.startswith("10.1.2.3 - bob [")
    assert '"GET /x HTTP/1.1" 404 5' in msg


def test_logging_logger_argument(caplog):
    caplog.set_level(logging.INFO, logger="myapp.access")
    Logger(logger=logging.getLogger("myapp.access")).log(
        _response(headers=[("X-Forwarded-For", "203.0.113.9")])
    )
    (record,) = caplog.records
    assert record.name == "myapp.access"
    assert record.getMessage().startswith("203.0.113.9 - - [")


def test_no_content_length_is_dash():
    res = _response()
    del res.headers["Content-Length"]
    sink = io.StringIO()
    Logger(file=sink).log(res)
    assert '" 200 - "' in sink.getvalue()


def test_access_log_quiet_when_disabled(caplog):
    caplog.set_level(logging.WARNING, logger=ACCESS)
    calls = []

    class Counting(Logger):
        def fields(self, response):
            calls.append(response)
            return super().fields(response)

    Counting().log(_response())
    assert not caplog.records
    assert not calls  # nothing formatted either
