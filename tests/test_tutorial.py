"""The tutorial (docs/tutorial.md): its programs run, and the page shows them as they are.

Each step of the tutorial is a program in ``examples/chat/``; the tests below
run each one for real, in a subprocess, with real sockets and clients. The
last tests are the tutorial's "Testing it" step: the same components under
the ``circuits.testing`` fixtures, in process.

The page's listings cannot drift from the files. Convention: a listing is a
fenced block right after a line ``<!-- file: PATH -->`` (``PATH`` relative to
the repository root); its text must be the file, or a contiguous excerpt of it
(whole lines). Every program, page and script of ``examples/chat/`` is listed.
The listings are plain ```python (or ```html, ```js) fences, not followed by
a ```text block, so tests/test_docs.py would not run them as programs.
"""

from __future__ import annotations

import importlib
import queue
import re
import socket
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from functools import partial
from pathlib import Path

import pytest
from websockets.exceptions import ConnectionClosedOK
from websockets.sync.client import connect as ws_connect

from circuits.web.websockets import WebSocketsDispatcher

ROOT = Path(__file__).resolve().parent.parent
CHAT = ROOT / "examples" / "chat"
PAGE = ROOT / "docs" / "tutorial.md"
TIMEOUT_S = 5.0
SHOWN = {".py", ".html", ".js"}  # the files the page must list (not the style sheet)

LISTING = re.compile(r"^<!-- file: (\S+) -->\n```[\w-]*\n(.*?)^```$", re.M | re.S)

# The steps import each other by module name, as they do when run as scripts.
sys.path.insert(0, str(CHAT))
step1 = importlib.import_module("step1_room")
step3 = importlib.import_module("step3_rules")
step4 = importlib.import_module("step4_web")
step5 = importlib.import_module("step5_websocket")

WELCOME = "welcome, {}! commands: /nick NAME, /who, /quit"


# -- the page ---------------------------------------------------------------


def listings() -> list[tuple[str, str]]:
    return LISTING.findall(PAGE.read_text(encoding="utf-8"))


def test_every_listing_is_an_excerpt_of_its_file():
    assert listings(), "no <!-- file: ... --> listing on the page"
    for path, code in listings():
        text = "\n" + (ROOT / path).read_text(encoding="utf-8")
        assert "\n" + code in text, (
            f"{path}: the listing is not a run of lines of the file:\n{code}"
        )


def test_every_example_file_is_listed():
    listed = {path for path, _ in listings()}
    files = {str(p.relative_to(ROOT)) for p in CHAT.rglob("*.*") if p.suffix in SHOWN}
    assert files - listed == set()


# -- the programs, run for real --------------------------------------------


@contextmanager
def running(script: str, banners: int) -> Iterator[list[str]]:
    """Run ``examples/chat/<script> 0``; yield its first ``banners`` lines of output.

    The process is killed on the way out; it must not have written a traceback.
    """
    with subprocess.Popen(
        [sys.executable, "-W", "error", str(CHAT / script), "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as proc:
        lines: queue.Queue[str] = queue.Queue()
        assert proc.stdout is not None
        assert proc.stderr is not None
        reader = threading.Thread(target=lambda: [lines.put(x) for x in proc.stdout], daemon=True)
        reader.start()
        try:
            yield [lines.get(timeout=TIMEOUT_S) for _ in range(banners)]
        finally:
            proc.kill()
            proc.wait(timeout=TIMEOUT_S)
            reader.join(TIMEOUT_S)  # it ends at the end of the output
        stderr = proc.stderr.read()
        assert "Traceback" not in stderr, stderr


def port_of(banner: list[str], pattern: str) -> int:
    found = [m for line in banner if (m := re.match(pattern, line))]
    assert found, f"no {pattern!r} in {banner}"
    return int(found[0].group(1))


class User:
    """A TCP chat user: a real socket, read line by line."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT_S)
        self.lines = self.sock.makefile("rb")

    def say(self, text: str) -> None:
        self.sock.sendall(f"{text}\r\n".encode())

    def hear(self) -> str:
        line = self.lines.readline()
        assert line.endswith(b"\r\n"), f"the server hung up: {line!r}"
        return line[:-2].decode()

    def __enter__(self) -> User:
        return self

    def __exit__(self, *exc: object) -> None:
        self.lines.close()
        self.sock.close()


@pytest.mark.slow
def test_step1_prints_the_transcript():
    proc = subprocess.run(
        [sys.executable, "-W", "error", str(CHAT / "step1_room.py")],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert (proc.returncode, proc.stderr) == (0, "")
    assert proc.stdout == (
        f"  (to tty1) {WELCOME.format('guest1')}\n"
        "* guest1 entered\n"
        f"  (to tty2) {WELCOME.format('guest2')}\n"
        "* guest2 entered\n"
        "* guest1 is now alice\n"
        "  (to tty2) alice is taken\n"
        "alice: hello, world\n"
        "  (to tty1) here: alice, guest2\n"
        "  (to tty2) bye!\n"
        "  (tty2 hangs up)\n"
        "* guest2 left\n"
    )


@pytest.mark.slow
def test_step2_tcp_users_chat():
    with running("step2_tcp.py", 1) as banner, ExitStack() as users:
        port = port_of(banner, r"Chat on 127\.0\.0\.1:(\d+) ")
        alice = users.enter_context(User(port))
        assert (alice.hear(), alice.hear()) == (WELCOME.format("guest1"), "* guest1 entered")
        alice.say("/nick alice")
        assert alice.hear() == "* guest1 is now alice"
        bob = users.enter_context(User(port))
        assert (bob.hear(), bob.hear()) == (WELCOME.format("guest2"), "* guest2 entered")
        assert alice.hear() == "* guest2 entered"
        bob.say("/nick bob\r\nhi alice")  # one packet, two lines: the new name applies
        for user in (alice, bob):
            assert (user.hear(), user.hear()) == ("* guest2 is now bob", "bob: hi alice")
        alice.say("/who")
        assert alice.hear() == "here: alice, bob"
        bob.say("/quit")
        assert bob.hear() == "bye!"
        assert bob.lines.readline() == b""  # the server closed the connection
        assert alice.hear() == "* bob left"


@pytest.mark.slow
def test_step3_the_moderator_drops_banned_words():
    with running("step3_rules.py", 1) as banner, ExitStack() as users:
        port = port_of(banner, r"Chat on 127\.0\.0\.1:(\d+) ")
        alice = users.enter_context(User(port))
        assert (alice.hear(), alice.hear()) == (WELCOME.format("guest1"), "* guest1 entered")
        bob = users.enter_context(User(port))
        bob.say("oh Heck!")
        bob.say("hello")
        assert [bob.hear() for _ in range(4)] == [
            WELCOME.format("guest2"),
            "* guest2 entered",
            "the moderator dropped your line",
            "guest2: hello",
        ]
        assert (alice.hear(), alice.hear()) == ("* guest2 entered", "guest2: hello")


@pytest.mark.slow
def test_step4_serves_the_page_and_who_is_here():
    with running("step4_web.py", 2) as banner, ExitStack() as users:
        web = port_of(banner, r"Serving on http://127\.0\.0\.1:(\d+)/$")
        alice = users.enter_context(User(port_of(banner, r"Chat on 127\.0\.0\.1:(\d+) ")))
        assert alice.hear() == WELCOME.format("guest1")  # she is in the room
        base = f"http://127.0.0.1:{web}/"
        with urllib.request.urlopen(base, timeout=TIMEOUT_S) as r:
            assert r.headers["Content-Type"].startswith("text/html")
            assert b'<script src="chat.js" defer></script>' in r.read()
        with urllib.request.urlopen(base + "chat.js", timeout=TIMEOUT_S) as r:
            assert b"textContent" in r.read()
        with urllib.request.urlopen(base + "api/here", timeout=TIMEOUT_S) as r:
            assert r.headers["Content-Type"] == "application/json"
            assert r.read() == b'{"here": ["guest1"]}'


@pytest.mark.slow
def test_step5_browser_and_tcp_users_share_the_room():
    with running("step5_websocket.py", 2) as banner, ExitStack() as users:
        web = port_of(banner, r"Serving on http://127\.0\.0\.1:(\d+)/$")
        alice = users.enter_context(User(port_of(banner, r"Chat on 127\.0\.0\.1:(\d+) ")))
        assert (alice.hear(), alice.hear()) == (WELCOME.format("guest1"), "* guest1 entered")
        with ws_connect(f"ws://127.0.0.1:{web}/ws", open_timeout=TIMEOUT_S) as bob:
            hear = partial(bob.recv, timeout=TIMEOUT_S)
            assert (hear(), hear()) == (WELCOME.format("guest2"), "* guest2 entered")
            assert alice.hear() == "* guest2 entered"
            bob.send("/nick bob")
            alice.say("hi <b>bob</b>")  # the page shows it as text
            bob.send("hello alice")
            for heard in (alice.hear, hear):
                assert heard() == "* guest2 is now bob"
                assert {heard(), heard()} == {"guest1: hi <b>bob</b>", "bob: hello alice"}
            bob.send("/quit")
            assert hear() == "bye!"
            with pytest.raises(ConnectionClosedOK):  # the server closed the connection
                hear()
        assert alice.hear() == "* bob left"


# -- "Testing it": the tutorial's last step ---------------------------------
# The tests below are shown on the page. The steps are scripts, not a package:
# the module imports them by name after putting examples/chat on sys.path
# (step1 = importlib.import_module("step1_room"), and so on).


def test_names_are_unique(manager, watcher):
    step1.ChatRoom().register(manager)
    manager.fire(step1.enter("tty1"), "room")
    manager.fire(step1.enter("tty2"), "room")
    manager.fire(step1.say("tty1", "/nick alice"), "room")
    manager.fire(step1.say("tty2", "/nick alice"), "room")
    assert watcher.wait_until(
        lambda events: any(e.args == ["tty2", "alice is taken"] for e in events)
    )
    messages = [event.args[0] for event in watcher.find("message")]
    assert messages == ["* guest1 entered", "* guest2 entered", "* guest1 is now alice"]

    here = manager.fire(step1.who(), "room")  # a handler's return value is the event's value
    assert watcher.wait("who")
    assert here.value == ["alice", "guest2"]


def test_silent_users_are_kicked(manager, watcher, clock):
    step1.ChatRoom().register(manager)
    step3.IdleKicker(interval=60, rounds=2).register(manager)
    manager.fire(step1.enter("tty1"), "room")
    manager.fire(step1.enter("tty2"), "room")
    clock.advance(60)  # no real waiting: the timer goes off at once
    assert watcher.wait("check_idle")
    manager.fire(step1.say("tty1", "still here"), "room")
    assert watcher.wait("say")
    clock.advance(60)
    assert watcher.wait("kick")
    assert [event.args for event in watcher.find("kick")] == [["tty2"]]


def test_browser_users_chat(web_client):
    client = web_client(step1.ChatRoom(), step4.Api(), WebSocketsDispatcher("/ws"), step5.WebChat())
    with client.websocket("/ws") as alice:
        assert alice.receive() == WELCOME.format("guest1")
        assert alice.receive() == "* guest1 entered"
        with client.websocket("/ws") as bob:
            assert alice.receive() == "* guest2 entered"
            assert client.get("/api/here").json() == {"here": ["guest1", "guest2"]}
            bob.send("<b>hi</b>")
            assert alice.receive() == "guest2: <b>hi</b>"  # as typed: the page shows it as text
        assert alice.receive() == "* guest2 left"
