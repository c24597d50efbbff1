"""The ``circuits.web`` command (web.md §23): its helpers, then the command run for real."""

from __future__ import annotations

import os
import queue
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests
from requests.auth import HTTPDigestAuth
from web_harness import kill_group

from circuits.core.pollers import EPoll, Poll, Select
from circuits.web import main as web_main
from circuits.web.main import parse_bind, parse_options, read_passwd, select_poller

START_TIMEOUT_S = 15  # a cold interpreter start on a loaded 2-core CI box
HTTP_TIMEOUT_S = 5

# -- helpers -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("bind", "expected"),
    [
        ("0.0.0.0:8000", ("0.0.0.0", 8000)),
        ("127.0.0.1:0", ("127.0.0.1", 0)),
        ("localhost", ("localhost", 8000)),
        (":9000", ("", 9000)),
    ],
)
def test_parse_bind(bind, expected):
    assert parse_bind(bind) == expected


@pytest.mark.parametrize(
    ("bind", "message"),
    [
        ("host:http", "expected a port number after ':', not 'http'"),
        ("host:", "expected a port number after ':', not ''"),
        ("host:65536", "expected a port from 0 to 65535, not 65536"),
        ("host:-1", "expected a port from 0 to 65535, not -1"),
    ],
)
def test_parse_bind_rejects_bad_ports(bind, message):
    with pytest.raises(ValueError, match=message):
        parse_bind(bind)


def test_select_poller():
    assert select_poller("select") is Select
    assert select_poller("poll") is Poll
    assert select_poller("epoll") is EPoll
    with pytest.raises(ValueError, match="expected one of select, poll, epoll, not 'kqueue'"):
        select_poller("kqueue")


def test_select_poller_falls_back_to_select_with_a_message(monkeypatch, capsys):
    import select

    monkeypatch.delattr(select, "epoll", raising=False)
    assert select_poller("epoll") is Select
    assert "No epoll support available, using select instead." in capsys.readouterr().err


def test_parse_options_defaults(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    opts = parse_options([])
    assert opts.bind == ("0.0.0.0", 8000)
    assert opts.docroot == str(tmp_path)
    assert (opts.logging, opts.passwd, opts.workers, opts.poller, opts.server) == (
        False,
        None,
        0,
        "select",
        "server",
    )
    assert not opts.profile
    assert not opts.debug
    assert not opts.validate


def test_parse_options_reads_every_option(tmp_path):
    passwd = tmp_path / "passwd"
    passwd.write_text("alice:secret\n")
    opts = parse_options(
        [
            *("-b", "127.0.0.1:0", "-l", "-p", str(passwd), "-j", "2", "--poller", "poll"),
            *("--server", "base", "--profile", "--debug", "--validate", str(tmp_path)),
        ]
    )
    assert opts.bind == ("127.0.0.1", 0)
    assert (opts.logging, opts.passwd, opts.workers, opts.poller, opts.server) == (
        True,
        str(passwd),
        2,
        "poll",
        "base",
    )
    assert opts.profile
    assert opts.debug
    assert opts.validate
    assert opts.docroot == str(tmp_path)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["-b", "127.0.0.1:http"], "argument -b/--bind: expected a port number after ':'"),
        (["-j", "-1"], "argument --workers/-j/--jobs: expected 0 or more, not -1"),
        (["--workers", "many"], "argument --workers/-j/--jobs: expected a number, not 'many'"),
        (["--drain-timeout", "0"], "argument --drain-timeout: expected more than 0 seconds"),
        (["--poller", "kqueue"], "argument --poller: invalid choice: 'kqueue'"),
        (["--server", "fast"], "argument --server: invalid choice: 'fast'"),
        (["/no/such/dir"], "docroot: expected a directory, not '/no/such/dir'"),
        (["-p", "/no/such/file"], "argument -p/--passwd: [Errno 2] No such file or directory"),
        (["--bogus"], "unrecognized arguments: --bogus"),
    ],
)
def test_parse_options_rejects_bad_options(argv, message, capsys):
    with pytest.raises(SystemExit) as info:
        parse_options(argv)
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: circuits.web ")
    assert message in err


def test_parse_options_version(capsys):
    with pytest.raises(SystemExit) as info:
        parse_options(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out == f"circuits.web v{web_main.__version__}\n"


def test_read_passwd(tmp_path):
    path = tmp_path / "passwd"
    path.write_text("# users\n\nalice:secret\nbob:a:b:c\ncarol:\n")
    assert read_passwd(path) == {"alice": "secret", "bob": "a:b:c", "carol": ""}


@pytest.mark.parametrize("line", ["alice", ":secret"])
def test_read_passwd_rejects_lines_without_a_user(tmp_path, line):
    path = tmp_path / "passwd"
    path.write_text(f"alice:secret\n{line}\n")
    with pytest.raises(ValueError, match=rf"passwd:2: expected 'user:password', not '{line}'"):
        read_passwd(path)


def test_authentication_defaults():
    auth = web_main.Authentication()
    assert auth.channel == "web"
    assert auth.realm == "Secure Area"
    assert auth.users == {"admin": "21232f297a57a5a743894a0e4a801fc3"}  # md5("admin")


# -- the command, run for real -------------------------------------------------------


@dataclass
class Running:
    proc: subprocess.Popen[str]
    url: str
    stderr_lines: list[str] = field(default_factory=list)
    stdout_rest: str = ""  # what it had printed when it was killed


def _drain(stream, lines: queue.Queue[str]) -> None:
    for line in stream:
        lines.put(line)


@contextmanager
def command(*args: str, cwd: Path, exe: tuple[str, ...] | None = None) -> Iterator[Running]:
    """Run the command on 127.0.0.1 port 0 in ``cwd``; yield once it listens; kill it after."""
    argv = [*(exe or (sys.executable, "-m", "circuits.web")), "-b", "127.0.0.1:0", *args]
    proc = subprocess.Popen(
        argv,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group: --jobs children go with it
    )
    lines: queue.Queue[str] = queue.Queue()
    drain = threading.Thread(target=_drain, args=(proc.stderr, lines), daemon=True)
    drain.start()
    seen: list[str] = []
    running = None
    try:
        while True:
            try:
                line = lines.get(timeout=START_TIMEOUT_S)
            except queue.Empty:
                pytest.fail(f"{argv} did not start listening; stderr so far: {seen}")
            seen.append(line)
            if "ready! Listening on: " in line or "Serving WSGI (validated) on " in line:
                url = line.split(" on: " if "ready!" in line else " on ")[-1].strip()
                break
        running = Running(proc, url.rstrip("/"), seen)
        yield running
    finally:
        kill_group(proc, HTTP_TIMEOUT_S)
        assert proc.stdout is not None
        assert proc.stderr is not None
        rest = proc.stdout.read()
        drain.join(HTTP_TIMEOUT_S)
        proc.stdout.close()
        proc.stderr.close()
        if running is not None:
            running.stdout_rest = rest


@pytest.fixture
def docroot(tmp_path):
    (tmp_path / "hello.txt").write_text("Hello from a file\n")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "index.html").write_text("<p>sub index</p>\n")
    return tmp_path


@pytest.mark.slow
def test_serves_the_current_directory_and_hello(docroot):
    with command(cwd=docroot) as app:
        r = requests.get(app.url + "/hello.txt", timeout=HTTP_TIMEOUT_S)
        assert (r.status_code, r.text) == (200, "Hello from a file\n")
        assert r.headers["Content-Type"] == "text/plain"
        r = requests.get(app.url + "/sub", timeout=HTTP_TIMEOUT_S)
        assert r.text == "<p>sub index</p>\n"
        listing = requests.get(app.url + "/", timeout=HTTP_TIMEOUT_S).text
        assert '<a href="/hello.txt">hello.txt</a>' in listing
        assert '<a href="/sub/">sub/</a>' in listing
        r = requests.get(app.url + "/hello", timeout=HTTP_TIMEOUT_S)
        assert (r.status_code, r.text) == (200, "Hello World!")
        assert requests.get(app.url + "/missing", timeout=HTTP_TIMEOUT_S).status_code == 404


@pytest.mark.slow
def test_sigint_stops_it_cleanly(docroot):
    with command(cwd=docroot) as app:
        assert requests.get(app.url + "/hello", timeout=HTTP_TIMEOUT_S).ok
        app.proc.send_signal(signal.SIGINT)
        # BaseServer stops accepting and exits as soon as no request is in flight.
        assert app.proc.wait(timeout=15) == 0
        with pytest.raises(requests.ConnectionError):
            requests.get(app.url + "/hello", timeout=HTTP_TIMEOUT_S)


@pytest.mark.slow
def test_docroot_argument(docroot, tmp_path_factory):
    elsewhere = tmp_path_factory.mktemp("cwd")
    with command(str(docroot / "sub"), cwd=elsewhere) as app:
        r = requests.get(app.url + "/", timeout=HTTP_TIMEOUT_S)
        assert r.text == "<p>sub index</p>\n"


@pytest.mark.slow
def test_base_server_says_hello_to_everything_but_files(docroot):
    with command("--server", "base", cwd=docroot) as app:
        for path in ("/anything/at/all", "/hello?x=1", "/missing.txt"):
            r = requests.get(app.url + path, timeout=HTTP_TIMEOUT_S)
            assert (r.status_code, r.text) == (200, "Hello World!"), path
        r = requests.get(app.url + "/hello.txt", timeout=HTTP_TIMEOUT_S)
        assert r.text == "Hello from a file\n"


@pytest.mark.slow
def test_passwd_requires_digest_auth(docroot, tmp_path_factory):
    passwd = tmp_path_factory.mktemp("etc") / "passwd"
    passwd.write_text("alice:secret\n")
    with command("-p", str(passwd), cwd=docroot) as app:
        r = requests.get(app.url + "/hello.txt", timeout=HTTP_TIMEOUT_S)
        assert r.status_code == 401
        assert r.headers["WWW-Authenticate"].startswith('Digest realm="Secure Area"')
        wrong = HTTPDigestAuth("alice", "guess")
        r = requests.get(app.url + "/hello.txt", auth=wrong, timeout=HTTP_TIMEOUT_S)
        assert r.status_code == 401
        right = HTTPDigestAuth("alice", "secret")
        r = requests.get(app.url + "/hello.txt", auth=right, timeout=HTTP_TIMEOUT_S)
        assert (r.status_code, r.text) == (200, "Hello from a file\n")


@pytest.mark.slow
def test_logging_writes_access_lines_to_stdout(docroot):
    with command("-l", cwd=docroot) as app:
        assert requests.get(app.url + "/hello", timeout=HTTP_TIMEOUT_S).ok
        assert app.proc.stdout is not None
        line = app.proc.stdout.readline()  # flushed before the response went out
    assert line.startswith("127.0.0.1 - - [")
    assert '"GET /hello HTTP/1.1" 200 12' in line


@pytest.mark.slow
def test_validate_serves_root_through_the_wsgi_validator(docroot):
    with command("--validate", cwd=docroot) as app:
        r = requests.get(app.url + "/hello", timeout=HTTP_TIMEOUT_S)
        assert (r.status_code, r.text) == (200, "Hello World!")
        assert r.headers["Server"].startswith("WSGIServer/")
        assert requests.get(app.url + "/missing", timeout=HTTP_TIMEOUT_S).status_code == 404


@pytest.mark.slow
def test_debug_prints_the_component_graph(docroot):
    with command("--debug", "--poller", "poll", cwd=docroot) as app:
        assert requests.get(app.url + "/hello", timeout=HTTP_TIMEOUT_S).ok
    assert app.stdout_rest.startswith("* <Manager/")
    assert " * <Server/web " in app.stdout_rest
    assert "  * <HTTP/web " in app.stdout_rest
    assert " * <Poll/poll " in app.stdout_rest
    assert " Components: 5\n" in app.stdout_rest
    assert any("<registered[" in line for line in app.stderr_lines)  # the Debugger


@pytest.mark.slow
@pytest.mark.skipif(not hasattr(os, "fork"), reason="--jobs forks")
def test_jobs_serve_from_several_processes(docroot):  # -j is --workers: see test_workers.py
    with command("-j", "2", cwd=docroot) as app:
        for _ in range(6):
            r = requests.get(app.url + "/hello", timeout=HTTP_TIMEOUT_S)
            assert r.text == "Hello World!"
        app.proc.send_signal(signal.SIGTERM)
        assert app.proc.wait(timeout=15) == 0
        # the workers went with it (the command runs in its own process group)
        with pytest.raises(ProcessLookupError):
            os.killpg(app.proc.pid, 0)


@pytest.mark.slow
@pytest.mark.parametrize(
    "exe",
    [
        pytest.param((sys.executable, "-m", "circuits.web.main"), id="python -m circuits.web.main"),
        pytest.param((str(Path(sys.executable).with_name("circuits.web")),), id="console script"),
    ],
)
def test_other_ways_to_start_it(docroot, exe):
    if not Path(exe[0]).exists():
        pytest.skip(f"{exe[0]} is not installed (pip install -e . makes it)")
    with command(cwd=docroot, exe=exe) as app:
        assert requests.get(app.url + "/hello", timeout=HTTP_TIMEOUT_S).text == "Hello World!"


@pytest.mark.slow
def test_a_port_in_use_is_a_clear_error(docroot):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        for extra in ([], ["--validate"]):
            out = subprocess.run(
                [sys.executable, "-m", "circuits.web", "-b", f"127.0.0.1:{port}", *extra],
                cwd=docroot,
                capture_output=True,
                text=True,
                timeout=START_TIMEOUT_S,
            )
            assert out.returncode == 1, extra
            assert out.stderr.startswith(f"circuits.web: error: cannot listen on 127.0.0.1:{port}:")
            assert "Traceback" not in out.stderr


@pytest.mark.slow
def test_bad_options_exit_2_with_usage(docroot):
    out = subprocess.run(
        [sys.executable, "-m", "circuits.web", "-b", "127.0.0.1:http"],
        cwd=docroot,
        capture_output=True,
        text=True,
        timeout=START_TIMEOUT_S,
    )
    assert out.returncode == 2
    assert out.stderr.startswith("usage: circuits.web ")
    assert out.stderr.rstrip().endswith(
        "error: argument -b/--bind: expected a port number after ':', not 'http'"
    )


def test_with_app_no_directory_is_served_unless_given(docroot):
    assert parse_options(["--app", "m:a"]).docroot is None
    assert parse_options(["--app", "m:a", str(docroot)]).docroot == str(docroot)
    assert parse_options([]).docroot == os.getcwd()


@pytest.mark.slow
def test_app_answers_the_root_path(docroot):
    (docroot / "hello_app.py").write_text(
        "from circuits.web import Controller\n\n"
        "class Root(Controller):\n"
        "    def index(self):\n"
        "        return 'from the app'\n"
    )
    with command("--app", "hello_app:Root", cwd=docroot) as app:
        r = requests.get(app.url + "/", timeout=HTTP_TIMEOUT_S)
        assert r.text == "from the app"  # not a listing of the current directory
