"""Graceful stop, ``--workers`` and SIGHUP reload (circuits.web._workers), run for real.

Every server runs as a subprocess in its own process group, killed with the
whole group in teardown. Waits poll with deadlines: for a log line, a file
the test application writes, or an answer.
"""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import IO

import pytest
import requests
from web_harness import kill_group

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not hasattr(os, "fork"), reason="POSIX processes and signals"),
]

START_TIMEOUT_S = 20  # cold interpreters (a supervisor and its workers) on a loaded CI box
HTTP_TIMEOUT_S = 5
STOP_TIMEOUT_S = 15

APP = """
import os
import time

from circuits import sleep
from circuits.web import Controller

VERSION = {version!r}


class Root(Controller):
    def pid(self):
        return str(os.getpid())

    def version(self):
        return VERSION

    async def slow(self):
        # In flight until the test creates slow.release (at most 10 s).
        open("slow.started", "w").close()
        deadline = time.monotonic() + 10
        while not os.path.exists("slow.release") and time.monotonic() < deadline:
            await sleep(0.01)
        return "slow done " + "x" * 200_000
"""

SLOW_BODY = "slow done " + "x" * 200_000


@dataclass
class Running:
    proc: subprocess.Popen[str]
    url: str = ""
    host: str = ""
    port: int = 0
    out: list[str] = field(default_factory=list)  # stdout lines: the log
    err: list[str] = field(default_factory=list)
    changed: threading.Condition = field(default_factory=threading.Condition)

    def wait_line(
        self, match: Callable[[str], bool], what: str, timeout: float = START_TIMEOUT_S
    ) -> str:
        """The first stdout line that ``match``es; fails after ``timeout``."""
        deadline = time.monotonic() + timeout
        with self.changed:
            while True:
                for line in self.out:
                    if match(line):
                        return line
                left = deadline - time.monotonic()
                if left <= 0:
                    pytest.fail(f"no {what} in the log; stdout: {self.out}, stderr: {self.err}")
                self.changed.wait(min(left, 0.5))

    def count(self, text: str) -> int:
        with self.changed:
            return sum(text in line for line in self.out)

    def get(self, path: str) -> requests.Response:
        return requests.get(
            self.url + path, headers={"Connection": "close"}, timeout=HTTP_TIMEOUT_S
        )


def _collect(stream: IO[str], lines: list[str], changed: threading.Condition) -> None:
    for line in stream:
        with changed:
            lines.append(line)
            changed.notify_all()


@contextmanager
def launch(argv: list[str], cwd: Path) -> Iterator[Running]:
    """Start ``argv`` in its own process group; yield once it listens; kill the group after."""
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}  # an edited app is never a stale .pyc
    proc = subprocess.Popen(
        argv,
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    running = Running(proc)
    readers = [
        threading.Thread(target=_collect, args=(stream, lines, running.changed), daemon=True)
        for stream, lines in ((proc.stdout, running.out), (proc.stderr, running.err))
    ]
    for reader in readers:
        reader.start()
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        marker = "ready! Listening on: "
        with running.changed:
            while not any(marker in line for line in running.err):
                left = deadline - time.monotonic()
                if left <= 0 or proc.poll() is not None:
                    pytest.fail(f"{argv} did not start; stderr: {running.err}")
                running.changed.wait(min(left, 0.5))
            line = next(line for line in running.err if marker in line)
        running.url = line.split(marker)[-1].strip().rstrip("/")
        authority = running.url.rsplit("/", 1)[-1]
        if ":" in authority:  # not a UNIX socket's path
            host, port = authority.rsplit(":", 1)
            running.host, running.port = host, int(port)
        yield running
    finally:
        kill_group(proc, STOP_TIMEOUT_S)
        for reader in readers:
            reader.join(STOP_TIMEOUT_S)
        assert proc.stdout is not None
        assert proc.stderr is not None
        proc.stdout.close()
        proc.stderr.close()


def command(*args: str) -> list[str]:
    return [sys.executable, "-m", "circuits.web", "-b", "127.0.0.1:0", *args, "static"]


@pytest.fixture
def app_dir(tmp_path):
    (tmp_path / "static").mkdir()  # the docroot: empty, so the controller answers
    write_app(tmp_path, "v1")
    return tmp_path


def write_app(directory: Path, version: str) -> None:
    (directory / "wapp.py").write_text(APP.format(version=version))


def wait_until(condition: Callable[[], bool], what: str, timeout: float = START_TIMEOUT_S) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.01)


def start_slow_request(
    srv: Running, app_dir: Path
) -> tuple[threading.Thread, dict[str, requests.Response | Exception]]:
    """GET /slow in a thread; return once the app is handling it (it waits for slow.release)."""
    result: dict[str, requests.Response | Exception] = {}

    def ask_slow() -> None:
        try:
            result["r"] = srv.get("/slow")
        except requests.RequestException as exc:
            result["r"] = exc

    slow = threading.Thread(target=ask_slow, daemon=True)
    slow.start()
    wait_until((app_dir / "slow.started").exists, "the slow request to start")
    return slow, result


def assert_group_gone(pgid: int) -> None:
    with pytest.raises(ProcessLookupError):
        os.killpg(pgid, 0)


# -- 1. graceful stop ---------------------------------------------------------------------


def test_sigterm_finishes_the_request_in_flight_and_refuses_new_ones(app_dir):
    with launch(command("--app", "wapp:Root"), app_dir) as srv:
        idle = http.client.HTTPConnection(srv.host, srv.port, timeout=HTTP_TIMEOUT_S)
        idle.request("GET", "/version")
        assert idle.getresponse().read() == b"v1"  # and the connection stays open, idle
        slow, result = start_slow_request(srv, app_dir)

        srv.proc.send_signal(signal.SIGTERM)
        srv.wait_line(lambda line: "draining" in line, "'draining'")
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection((srv.host, srv.port), timeout=HTTP_TIMEOUT_S).close()
        assert idle.sock is not None
        assert idle.sock.recv(1) == b""  # the idle keep-alive connection was closed

        (app_dir / "slow.release").touch()
        slow.join(HTTP_TIMEOUT_S)
        response = result["r"]
        assert isinstance(response, requests.Response), response
        assert (response.status_code, response.text) == (200, SLOW_BODY)
        assert response.headers["Connection"] == "close"
        assert srv.proc.wait(timeout=STOP_TIMEOUT_S) == 0
        idle.close()


def test_the_drain_timeout_bounds_the_wait(app_dir):
    with launch(command("--app", "wapp:Root", "--drain-timeout", "0.5"), app_dir) as srv:
        failed: list[Exception] = []

        def stuck() -> None:
            try:
                srv.get("/slow")
            except requests.ConnectionError as exc:
                failed.append(exc)

        client = threading.Thread(target=stuck, daemon=True)
        client.start()
        wait_until((app_dir / "slow.started").exists, "the slow request to start")
        srv.proc.send_signal(signal.SIGINT)
        assert srv.proc.wait(timeout=STOP_TIMEOUT_S) == 0  # never released: 0.5 s, then exit
        client.join(HTTP_TIMEOUT_S)
        assert len(failed) == 1


# -- 2. workers -------------------------------------------------------------------------


def pids_answering(srv: Running, at_least: int, must_include: int | None = None) -> set[int]:
    """Ask /pid on new connections until ``at_least`` workers (and ``must_include``) answered."""
    seen: set[int] = set()
    deadline = time.monotonic() + START_TIMEOUT_S
    while len(seen) < at_least or (must_include is not None and must_include not in seen):
        if time.monotonic() > deadline:
            pytest.fail(f"only {seen} answered; log: {srv.out}")
        response = srv.get("/pid")
        assert response.status_code == 200
        seen.add(int(response.text))
    return seen


def test_workers_serve_are_restarted_and_stop_together(app_dir):
    pidfile = app_dir / "server.pid"
    argv = command("--app", "wapp:Root", "--workers", "2", "--pid", str(pidfile))
    with launch(argv, app_dir) as srv:
        assert int(pidfile.read_text()) == srv.proc.pid
        first, second = sorted(pids_answering(srv, 2))
        assert srv.proc.pid not in (first, second)

        os.kill(first, signal.SIGKILL)
        srv.wait_line(lambda line: f"worker {first} died (killed by SIGKILL)" in line, "a death")
        started = srv.wait_line(
            lambda line: (
                "started (slot" in line and str(first) not in line and str(second) not in line
            ),
            "a replacement",
        )
        replacement = int(started.split("worker ")[1].split()[0])
        assert pids_answering(srv, 2, must_include=replacement) <= {second, replacement}

        srv.proc.send_signal(signal.SIGTERM)
        assert srv.proc.wait(timeout=STOP_TIMEOUT_S) == 0
        assert_group_gone(srv.proc.pid)
        assert not pidfile.exists()
        assert srv.count("supervisor stopped") == 1


def test_sigterm_to_the_whole_group_drains_the_workers(app_dir):
    # systemd (KillMode=control-group) signals every process of the service:
    # each worker gets SIGTERM from it, then again from its supervisor.
    with launch(command("--app", "wapp:Root", "--workers", "2"), app_dir) as srv:
        pids_answering(srv, 2)
        slow, result = start_slow_request(srv, app_dir)
        os.killpg(srv.proc.pid, signal.SIGTERM)
        srv.wait_line(lambda line: "SIGTERM: stopping the workers" in line, "the supervisor")
        (app_dir / "slow.release").touch()
        slow.join(HTTP_TIMEOUT_S)
        response = result["r"]
        assert isinstance(response, requests.Response), response
        assert (response.status_code, response.text) == (200, SLOW_BODY)
        assert srv.proc.wait(timeout=STOP_TIMEOUT_S) == 0
        srv.wait_line(lambda line: "supervisor stopped" in line, "the end")
        exits = [line for line in srv.out if " exited (" in line]
        assert len(exits) == 2, exits
        assert all("exited (exit code 0)" in line for line in exits), exits


def test_a_worker_log_line_has_time_level_and_pid(app_dir):
    with launch(command("--app", "wapp:Root", "--workers", "1"), app_dir) as srv:
        line = srv.wait_line(lambda line: "supervisor started" in line, "the start")
        stamp, level, pid, message = line.split(" ", 3)
        assert time.strptime(stamp, "%Y-%m-%dT%H:%M:%S%z")
        assert (level, int(pid), message) == (
            "INFO",
            srv.proc.pid,
            "supervisor started, 1 worker(s)\n",
        )


def test_server_workers_python_api(app_dir):
    script = app_dir / "serve.py"
    script.write_text(
        "from circuits.web import Server\n"
        "from wapp import Root\n"
        "(Server(('127.0.0.1', 0), workers=2) + Root()).run()\n"
    )
    with launch([sys.executable, str(script)], app_dir) as srv:
        assert len(pids_answering(srv, 2) - {srv.proc.pid}) == 2
        srv.proc.send_signal(signal.SIGTERM)
        assert srv.proc.wait(timeout=STOP_TIMEOUT_S) == 0
        assert_group_gone(srv.proc.pid)


# -- 3. reload ------------------------------------------------------------------------------


class Hammer:
    """Clients asking /version without a pause until stopped: keep-alive and fresh connections.

    A keep-alive client retries a request once when a connection it reused
    is closed before any byte of the response (a stopping worker closes its
    idle connections; the request may cross the close), as RFC 9112 §9.3.1
    allows for idempotent requests; browsers and HTTP libraries do the same.
    Anything else is a failure.
    """

    def __init__(self, srv: Running) -> None:
        self.srv = srv
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.versions: list[str] = []
        self.failures: list[str] = []
        self.retries = 0
        self.threads = [
            threading.Thread(target=self._keep_alive, daemon=True),
            threading.Thread(target=self._fresh, daemon=True),
        ]

    def __enter__(self) -> Hammer:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(HTTP_TIMEOUT_S * 2)

    def _record(self, status: int, body: str) -> None:
        with self.lock:
            if status == 200:
                self.versions.append(body)
            else:
                self.failures.append(f"{status} {body[:80]!r}")

    def _keep_alive(self) -> None:
        conn: http.client.HTTPConnection | None = None
        reused = False
        while not self.stop.is_set():
            if conn is None:
                conn = http.client.HTTPConnection(
                    self.srv.host, self.srv.port, timeout=HTTP_TIMEOUT_S
                )
                reused = False
            try:
                conn.request("GET", "/version")
                response = conn.getresponse()
                body = response.read().decode()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError) as exc:
                conn.close()
                conn = None
                with self.lock:
                    if reused:
                        self.retries += 1
                    else:
                        self.failures.append(f"keep-alive: {exc!r}")
                continue
            except (OSError, http.client.HTTPException) as exc:
                conn.close()
                conn = None
                with self.lock:
                    self.failures.append(f"keep-alive: {exc!r}")
                continue
            self._record(response.status, body)
            reused = True
            if response.will_close:
                conn.close()
                conn = None
        if conn is not None:
            conn.close()

    def _fresh(self) -> None:
        while not self.stop.is_set():
            try:
                response = self.srv.get("/version")
            except requests.RequestException as exc:
                with self.lock:
                    self.failures.append(f"fresh: {exc!r}")
                continue
            self._record(response.status_code, response.text)

    def wait_for(self, version: str) -> None:
        def seen() -> bool:
            with self.lock:
                if self.failures:
                    pytest.fail(f"failed requests: {self.failures}")
                return version in self.versions[-20:]

        wait_until(seen, f"{version!r} answered without failures")


def reloaded(srv: Running, times: int) -> bool:
    return srv.count("reload done") == times


def test_sighup_reloads_the_app_without_a_failed_request(app_dir):
    with launch(command("--app", "wapp:Root", "--workers", "2"), app_dir) as srv:
        with Hammer(srv) as hammer:
            hammer.wait_for("v1")
            for reload, version in enumerate(["version-two", "version-3"], 1):
                write_app(app_dir, version)
                srv.proc.send_signal(signal.SIGHUP)
                wait_until(partial(reloaded, srv, reload), f"reload {reload}")
                hammer.wait_for(version)
        srv.proc.send_signal(signal.SIGTERM)
        assert srv.proc.wait(timeout=STOP_TIMEOUT_S) == 0
        assert_group_gone(srv.proc.pid)
    assert hammer.failures == []
    assert hammer.versions.index("v1") < hammer.versions.index("version-two")
    assert hammer.versions.index("version-two") < hammer.versions.index("version-3")
    assert len(hammer.versions) > 20


def test_a_worker_stops_when_its_supervisor_is_killed(app_dir):
    with launch(command("--app", "wapp:Root", "--workers", "1"), app_dir) as srv:
        (worker,) = pids_answering(srv, 1)
        srv.proc.kill()
        srv.proc.wait(timeout=STOP_TIMEOUT_S)
        srv.wait_line(lambda line: "is gone, stopping" in line, "the orphan's stop")
        wait_until(lambda: not _alive(worker), f"worker {worker} to exit")


def _alive(pid: int) -> bool:
    """Running (an exited orphan may stay a zombie if nobody reaps it)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True  # no /proc: the signal test has to do
    return stat.rpartition(")")[2].split()[0] != "Z"


# -- 4. TLS and UNIX sockets ---------------------------------------------------------------


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory):
    from web_harness import make_tls_files

    return make_tls_files(tmp_path_factory)


def test_workers_serve_tls_and_reload(app_dir, tls_files):
    argv = command("--app", "wapp:Root", "--workers", "2", "--certfile", tls_files["cert"])
    with launch(argv, app_dir) as srv:
        assert srv.url.startswith("https://")

        def version() -> str:
            response = requests.get(
                srv.url + "/version", verify=tls_files["ca"], timeout=HTTP_TIMEOUT_S
            )
            assert response.status_code == 200
            return response.text

        assert version() == "v1"
        with pytest.raises(requests.ConnectionError):  # plain HTTP gets no answer
            requests.get(f"http://{srv.host}:{srv.port}/version", timeout=HTTP_TIMEOUT_S)
        write_app(app_dir, "version-two")
        srv.proc.send_signal(signal.SIGHUP)
        wait_until(partial(reloaded, srv, 1), "the reload")
        assert version() == "version-two"
        srv.proc.send_signal(signal.SIGTERM)
        assert srv.proc.wait(timeout=STOP_TIMEOUT_S) == 0


class UnixHTTPConnection(http.client.HTTPConnection):
    """``http.client`` over a UNIX socket (the host is only the ``Host`` header)."""

    def __init__(self, path: str) -> None:
        super().__init__("localhost", timeout=HTTP_TIMEOUT_S)
        self.path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(HTTP_TIMEOUT_S)
        sock.connect(self.path)
        self.sock = sock


def unix_get(path: str, target: str) -> tuple[int, str]:
    conn = UnixHTTPConnection(path)
    try:
        conn.request("GET", target)
        response = conn.getresponse()
        return response.status, response.read().decode()
    finally:
        conn.close()


@pytest.mark.parametrize("workers", [[], ["--workers", "2", "--reload"]], ids=["single", "workers"])
def test_a_unix_socket_replaces_a_stale_one_serves_reloads_and_is_removed(app_dir, workers):
    path = str(app_dir / "web.sock")
    stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stale.bind(path)  # left behind, as by a server that was killed
    stale.close()
    argv = [sys.executable, "-m", "circuits.web", "-b", f"unix:{path}", "--app", "wapp:Root"]
    with launch([*argv, *workers, "static"], app_dir) as srv:
        assert srv.url.endswith("web.sock")
        assert unix_get(path, "/version") == (200, "v1")
        if workers:
            srv.wait_line(lambda line: "reload: watching" in line, "the watcher")
            write_app(app_dir, "version-two")
            wait_until(partial(reloaded, srv, 1), "the reload")
            assert unix_get(path, "/version") == (200, "version-two")
        srv.proc.send_signal(signal.SIGTERM)
        assert srv.proc.wait(timeout=STOP_TIMEOUT_S) == 0
    assert not os.path.exists(path)


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (["--keyfile", "k.pem"], "--keyfile needs --certfile"),
        (["--certfile", "missing.pem"], "cannot load 'missing.pem'"),
        (["-b", "unix:"], "expected a socket path after 'unix:'"),
        (["-b", "unix:/tmp/x.sock", "--validate"], "--validate serves plain TCP only"),
    ],
)
def test_bad_tls_and_unix_options(args, error, capsys, tmp_path):
    from circuits.web.main import parse_options

    with pytest.raises(SystemExit) as raised:
        parse_options([*args, str(tmp_path)])
    assert raised.value.code == 2
    assert error in capsys.readouterr().err


# -- 5. --user/--group ---------------------------------------------------------------------


def test_user_and_group_options_resolve_to_ids(tmp_path):
    import grp
    import pwd

    from circuits.web.main import parse_options

    me = pwd.getpwuid(os.getuid())
    opts = parse_options(["--user", me.pw_name, str(tmp_path)])
    assert (opts.uid, opts.gid) == (me.pw_uid, me.pw_gid)
    group = grp.getgrgid(os.getgid()).gr_name
    opts = parse_options(["--user", str(me.pw_uid), "--group", group, str(tmp_path)])
    assert (opts.uid, opts.gid) == (me.pw_uid, os.getgid())
    assert (parse_options([str(tmp_path)]).uid, parse_options([str(tmp_path)]).gid) == (None, None)


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (["--user", "no-such-user-here"], "--user: no such user 'no-such-user-here'"),
        (["--group", "no-such-group-here"], "--group: no such group 'no-such-group-here'"),
    ],
)
def test_an_unknown_user_or_group_is_a_clear_error(args, error, tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "circuits.web", *args, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=START_TIMEOUT_S,
    )
    assert done.returncode == 2
    assert error in done.stderr


@pytest.mark.skipif(os.geteuid() == 0, reason="root may switch user")
def test_only_root_may_switch_user(tmp_path):
    import pwd

    other = next(p.pw_name for p in pwd.getpwall() if p.pw_uid != os.getuid())
    done = subprocess.run(
        [*command("--user", other, "--workers", "1")[:-1], str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=START_TIMEOUT_S,
    )
    assert done.returncode == 1
    assert "only root can switch user or group" in done.stderr


def _python_for(user: str) -> list[str] | None:
    """An interpreter ``user`` may run that imports this circuits, or ``None``."""
    import circuits

    src = os.path.dirname(os.path.dirname(circuits.__file__))
    for python in (sys.executable, "/usr/bin/python3"):
        probe = "import sys; assert sys.version_info >= (3, 10); import circuits.web.main"
        try:
            done = subprocess.run(
                [python, "-c", probe],
                user=user,
                env={**os.environ, "PYTHONPATH": src},
                cwd="/",
                capture_output=True,
                timeout=START_TIMEOUT_S,
            )
        except OSError:
            continue
        if done.returncode == 0:
            return [python]
    return None


@pytest.mark.skipif(os.geteuid() != 0, reason="only root can switch user")
def test_the_workers_run_as_nobody(monkeypatch):
    import pwd
    import shutil
    import tempfile

    import circuits

    nobody = pwd.getpwnam("nobody")
    python = _python_for("nobody")
    if python is None:
        pytest.skip("no Python interpreter that 'nobody' may run imports circuits")
    monkeypatch.setenv("PYTHONPATH", os.path.dirname(os.path.dirname(circuits.__file__)))
    directory = Path(tempfile.mkdtemp())  # not below pytest's root-only tmp_path
    try:
        directory.chmod(0o755)
        (directory / "static").mkdir()
        write_app(directory, "v1")
        argv = [*python, "-m", "circuits.web", "-b", "127.0.0.1:0", "--app", "wapp:Root"]
        with launch([*argv, "--workers", "2", "--user", "nobody", "static"], directory) as srv:
            workers = pids_answering(srv, 2)
            for pid in (srv.proc.pid, *workers):
                status = Path(f"/proc/{pid}/status").read_text()
                uid_line = next(line for line in status.splitlines() if line.startswith("Uid:"))
                assert uid_line.split()[1:] == [str(nobody.pw_uid)] * 4, (pid, uid_line)
            srv.proc.send_signal(signal.SIGHUP)  # new workers: started by nobody, too
            wait_until(partial(reloaded, srv, 1), "the reload")
            srv.proc.send_signal(signal.SIGTERM)
            assert srv.proc.wait(timeout=STOP_TIMEOUT_S) == 0
        assert srv.count(f"running as uid {nobody.pw_uid}, gid {nobody.pw_gid}") == 1
    finally:
        shutil.rmtree(directory)
