"""Pollers: readiness becomes _read/_write/_disconnect events; resume() wakes a wait."""

from __future__ import annotations

import array
import os
import select
import signal
import socket
import sys
import tempfile
import threading
import time

import pytest

from circuits import BaseComponent, Event, Manager, handler
from circuits.core import pollers
from circuits.core.events import generate_events
from circuits.core.pollers import EPoll, KQueue, Poll, Poller, Select

AVAILABLE = [
    cls
    for cls, needs in ((Select, "select"), (Poll, "poll"), (EPoll, "epoll"), (KQueue, "kqueue"))
    if hasattr(select, needs)
]


class Recorder(BaseComponent):
    """Records the poller events fired at its channel."""

    channel = "rec"

    def init(self):
        self.got = []

    @handler("_read")
    def _on_read(self, fd):
        self.got.append(("read", fd))

    @handler("_write")
    def _on_write(self, fd):
        self.got.append(("write", fd))

    @handler("_disconnect")
    def _on_disconnect(self, fd):
        self.got.append(("disconnect", fd))


@pytest.fixture(params=AVAILABLE, ids=lambda cls: cls.__name__)
def setup(request):
    """A poller and a recorder in one (not running) tree."""
    m = Manager()
    poller = request.param().register(m)
    rec = Recorder().register(m)
    while len(m):
        m.flush()
    return m, poller, rec


@pytest.fixture
def pair():
    a, b = socket.socketpair()
    a.setblocking(False)
    b.setblocking(False)
    yield a, b
    a.close()
    b.close()


def poll_once(m, poller, timeout):
    """One wait of the poller (as the loop does it), then dispatch what it fired."""
    ev = generate_events(m._lock, timeout)
    ev.handler = poller._on_generate_events
    poller._generate_events(ev)
    while len(m):
        m.flush()


def test_reader_fires_read(setup, pair):
    m, poller, rec = setup
    a, b = pair
    poller.addReader(rec, a)
    assert poller.isReading(a)
    assert not poller.isWriting(a)
    assert poller.getTarget(a) == "rec"
    b.send(b"x")
    poll_once(m, poller, 5)
    assert rec.got == [("read", a)]


def test_writer_fires_write(setup, pair):
    m, poller, rec = setup
    a, _ = pair
    poller.addWriter(rec, a)
    assert poller.isWriting(a)
    poll_once(m, poller, 5)
    assert rec.got == [("write", a)]


def test_reader_and_writer_on_one_socket(setup, pair):
    m, poller, rec = setup
    a, b = pair
    poller.addReader(rec, a)
    poller.addWriter(rec, a)
    b.send(b"x")
    poll_once(m, poller, 5)
    assert sorted(rec.got, key=str) == [("read", a), ("write", a)]


def test_idle_reader_times_out_without_events(setup, pair):
    m, poller, rec = setup
    a, _ = pair
    poller.addReader(rec, a)
    poll_once(m, poller, 0)
    assert rec.got == []


def test_remove_reader_and_writer(setup, pair):
    m, poller, rec = setup
    a, b = pair
    poller.addReader(rec, a)
    poller.addWriter(rec, a)
    poller.removeWriter(a)
    assert not poller.isWriting(a)
    assert poller.isReading(a)
    assert poller.getTarget(a) == "rec"
    poller.removeReader(a)
    assert not poller.isReading(a)
    assert poller.getTarget(a) is m  # forgotten: the parent
    b.send(b"x")
    poll_once(m, poller, 0)
    assert rec.got == []
    poller.removeReader(a)  # not watched: no error


def test_remove_writer_keeps_reading(setup, pair):
    m, poller, rec = setup
    a, b = pair
    poller.addReader(rec, a)
    poller.addWriter(rec, a)
    poller.removeWriter(a)
    b.send(b"x")
    poll_once(m, poller, 5)
    assert rec.got == [("read", a)]


def test_discard(setup, pair):
    m, poller, rec = setup
    a, b = pair
    poller.addReader(rec, a)
    poller.addWriter(rec, a)
    poller.discard(a)
    assert not poller.isReading(a)
    assert not poller.isWriting(a)
    b.send(b"x")
    poll_once(m, poller, 0)
    assert rec.got == []
    poller.discard(a)  # twice: no error


def test_peer_close_is_readable(setup, pair):
    m, poller, rec = setup
    a, b = pair
    poller.addReader(rec, a)
    b.close()
    poll_once(m, poller, 5)
    assert rec.got == [("read", a)]
    assert a.recv(10) == b""


@pytest.mark.skipif(not hasattr(select, "poll"), reason="POSIX pollers only")
@pytest.mark.parametrize("cls", [c for c in AVAILABLE if c in (Poll, EPoll)])
def test_hangup_without_data_is_disconnect(cls):
    m = Manager()
    poller = cls().register(m)
    rec = Recorder().register(m)
    r, w = os.pipe()
    try:
        poller.addReader(rec, r)
        os.close(w)
        poll_once(m, poller, 5)
        assert rec.got == [("disconnect", r)]
        assert not poller.isReading(r)
    finally:
        os.close(r)


def test_closed_socket_is_forgotten(setup):
    m, poller, rec = setup
    a, b = socket.socketpair()
    poller.addReader(rec, a)
    a.close()
    b.close()
    # Select and Poll notice the closed descriptor and drop it; epoll and
    # kqueue forget it in the kernel. Either way the next wait still works.
    poll_once(m, poller, 0)
    assert rec.got in ([], [("disconnect", a)])
    poller.discard(a)
    assert not poller.isReading(a)
    poll_once(m, poller, 0)


def test_fd_number_reuse_replaces_stale_entry(setup):
    m, poller, rec = setup
    a, b = socket.socketpair()
    poller.addReader(rec, a)
    number = a.fileno()
    a.close()  # closed while watched, never discarded
    b.close()
    c, d = socket.socketpair()
    try:
        if c.fileno() != number:
            pytest.skip("the kernel did not reuse the descriptor number")
        poller.addReader(rec, c)
        d.send(b"x")
        for _ in range(3):  # Select first drops the closed socket object
            poll_once(m, poller, 5)
            if rec.got:
                break
        assert rec.got == [("read", c)]
        assert not poller.isReading(a)
    finally:
        c.close()
        d.close()


@pytest.mark.parametrize("cls", AVAILABLE, ids=lambda cls: cls.__name__)
def test_resume_wakes_a_blocking_wait_from_another_thread(cls):
    m = Manager()
    poller = cls().register(m)
    m.flush()
    ev = generate_events(m._lock, -1)  # no limit
    ev.handler = poller._on_generate_events
    waiting = threading.Thread(target=poller._generate_events, args=(ev,))
    waiting.start()
    ev.reduce_time_left(0)  # -> poller.resume(); a byte on the control channel
    waiting.join(5)
    assert not waiting.is_alive(), "resume() did not wake the wait"
    assert len(m) == 0  # the control channel is drained silently


@pytest.mark.parametrize("cls", AVAILABLE, ids=lambda cls: cls.__name__)
def test_resume_from_the_polling_thread_writes_nothing(cls):
    m = Manager()
    poller = cls().register(m)
    poll_once(m, poller, 0)
    poller.resume()  # the poller's own thread, outside the wait: not needed
    start = time.monotonic()
    poll_once(m, poller, 0.05)
    assert time.monotonic() - start >= 0.04


class ping(Event):
    pass


class Pinged(BaseComponent):
    def init(self):
        self.done = threading.Event()

    @handler("ping")
    def _on_ping(self):
        self.done.set()


@pytest.mark.parametrize("cls", AVAILABLE, ids=lambda cls: cls.__name__)
def test_fire_from_another_thread_wakes_an_idle_loop(cls, running):
    m = Manager()
    cls().register(m)
    app = Pinged().register(m)
    running(m)  # started: the loop is idle in its poller's wait
    m.fire(ping())
    assert app.done.wait(5), "the idle loop was not woken"


@pytest.mark.skipif(not hasattr(signal, "SIGUSR1"), reason="needs SIGUSR1")
@pytest.mark.skipif(
    threading.current_thread() is not threading.main_thread(), reason="signals: main thread"
)
@pytest.mark.parametrize("cls", AVAILABLE, ids=lambda cls: cls.__name__)
def test_signal_handler_firing_wakes_the_wait(cls):
    m = Manager()
    cls().register(m)
    app = Pinged().register(m)

    class Stopper(BaseComponent):
        @handler("ping")
        def _on_ping(self):
            m.stop()

    Stopper().register(m)
    previous = signal.signal(signal.SIGUSR1, lambda signo, frame: m.fire(ping()))
    kill = threading.Timer(0.01, os.kill, (os.getpid(), signal.SIGUSR1))
    watchdog = threading.Timer(5, m.stop)  # bounds a failure; fires from a thread
    try:
        kill.start()
        watchdog.start()
        m.run()  # blocks in the poller until the signal handler's fire wakes it
        assert app.done.is_set(), "the signal handler's event did not wake the loop"
    finally:
        watchdog.cancel()
        kill.cancel()
        signal.signal(signal.SIGUSR1, previous)


def test_select_refuses_descriptors_past_fd_setsize():
    class Huge:
        def fileno(self):
            return pollers.FD_SETSIZE

    poller = Select()
    huge = Huge()
    if sys.platform == "win32":
        pytest.skip("Windows limits the number of sockets, not their numbers")
    with pytest.raises(ValueError, match=r"descriptor 1024 .*FD_SETSIZE.*EPoll"):
        poller.addReader(poller, huge)
    with pytest.raises(ValueError, match="FD_SETSIZE"):
        poller.addWriter(poller, huge)
    assert not poller.isReading(huge)
    assert not poller.isWriting(huge)


@pytest.mark.skipif(not hasattr(select, "epoll"), reason="Linux only")
def test_epoll_watches_regular_files():
    m = Manager()
    poller = EPoll().register(m)
    rec = Recorder().register(m)
    with tempfile.TemporaryFile() as f:
        f.write(b"data")
        f.seek(0)
        poller.addReader(rec, f)  # epoll refuses regular files: always ready
        poll_once(m, poller, -1)
        assert rec.got == [("read", f)]
        poller.discard(f)


def test_poller_is_the_best_available():
    expected = (
        EPoll
        if hasattr(select, "epoll")
        else KQueue
        if hasattr(select, "kqueue")
        else Poll
        if hasattr(select, "poll")
        else Select
    )
    assert Poller is expected
    if sys.platform.startswith("linux"):
        assert Poller is EPoll


def test_channels_and_exports():
    assert Select().channel == "select"
    assert Poller().channel == Poller.channel
    assert pollers.BasePoller().channel == "*"
    assert Select(channel="x").channel == "x"
    assert pollers.__all__ == ["BasePoller", "EPoll", "KQueue", "Poll", "Poller", "Select"]
    for name in ("_read", "_write", "_error", "_disconnect"):
        cls = getattr(pollers, name)
        assert issubclass(cls, Event)
        assert cls.name == name


def test_generate_events_handler_stops_the_event():
    poller = Select()
    m = Manager()
    poller.register(m)
    ev = generate_events(m._lock, 0)
    poller._on_generate_events(ev)
    assert ev.stopped
    h = poller._on_generate_events
    assert h.priority == -9
    assert h.names == ("generate_events",)


# -- KQueue, through a fake kqueue on select() (the real one is BSD/macOS) --------


class FakeKevent:
    def __init__(self, ident, filter, flags=0, data=0):
        self.ident, self.filter, self.flags, self.data = ident, filter, flags, data


class FakeKqueue:
    READ, WRITE, ADD, DELETE, EOF, ERROR = -1, -2, 0x1, 0x2, 0x8000, 0x4000

    def __init__(self):
        self.filters = set()
        self.closed = False

    def control(self, changes, max_events, timeout=None):
        for kev in changes or ():
            key = (kev.ident, kev.filter)
            if kev.flags & self.ADD:
                self.filters.add(key)
            elif key in self.filters:
                self.filters.remove(key)
            else:
                raise FileNotFoundError(2, "no such event")
        if not max_events:
            return []
        r = [i for i, f in self.filters if f == self.READ]
        w = [i for i, f in self.filters if f == self.WRITE]
        rr, ww, _ = select.select(r, w, [], timeout)
        import fcntl  # POSIX only: imported here, the fake is skipped elsewhere
        import termios

        out = []
        for i in rr:
            size = array.array("i", [0])
            fcntl.ioctl(i, termios.FIONREAD, size)
            flags = self.EOF if size[0] == 0 and i not in self.listening else 0
            out.append(FakeKevent(i, self.READ, flags, size[0]))
        out.extend(FakeKevent(i, self.WRITE) for i in ww)
        return out[:max_events]

    listening = ()

    def close(self):
        self.closed = True


@pytest.fixture
def fake_kqueue(monkeypatch):
    if not hasattr(select, "poll") or sys.platform == "win32":
        pytest.skip("the fake needs FIONREAD")
    if hasattr(select, "kqueue"):
        pytest.skip("the real kqueue is tested above")
    for name, value in {
        "kqueue": FakeKqueue,
        "kevent": FakeKevent,
        "KQ_FILTER_READ": FakeKqueue.READ,
        "KQ_FILTER_WRITE": FakeKqueue.WRITE,
        "KQ_EV_ADD": FakeKqueue.ADD,
        "KQ_EV_DELETE": FakeKqueue.DELETE,
        "KQ_EV_EOF": FakeKqueue.EOF,
        "KQ_EV_ERROR": FakeKqueue.ERROR,
    }.items():
        monkeypatch.setattr(select, name, value, raising=False)
    m = Manager()
    poller = KQueue().register(m)
    rec = Recorder().register(m)
    while len(m):
        m.flush()
    return m, poller, rec


def test_kqueue_read_write_remove(fake_kqueue, pair):
    m, poller, rec = fake_kqueue
    a, b = pair
    poller.addReader(rec, a)
    poller.addWriter(rec, a)
    assert (a.fileno(), FakeKqueue.WRITE) in poller._kqueue.filters
    b.send(b"x")
    poll_once(m, poller, 5)
    assert sorted(rec.got, key=str) == [("read", a), ("write", a)]
    rec.got.clear()
    poller.removeWriter(a)
    assert (a.fileno(), FakeKqueue.WRITE) not in poller._kqueue.filters
    poll_once(m, poller, 5)
    assert rec.got == [("read", a)]
    rec.got.clear()
    poller.discard(a)
    assert poller._kqueue.filters == {(poller._ctrl_fd, FakeKqueue.READ)}
    poll_once(m, poller, 0)
    assert rec.got == []


def test_kqueue_eof_with_data_reads_then_disconnects(fake_kqueue, pair):
    m, poller, rec = fake_kqueue
    a, b = pair
    poller.addReader(rec, a)
    b.send(b"last")
    b.close()
    poll_once(m, poller, 5)
    assert rec.got == [("read", a)]  # data first
    assert a.recv(10) == b"last"
    rec.got.clear()
    poll_once(m, poller, 5)
    assert rec.got == [("disconnect", a)]
    assert not poller.isReading(a)


def test_kqueue_resume_wakes_the_wait(fake_kqueue):
    m, poller, _ = fake_kqueue
    ev = generate_events(m._lock, -1)
    ev.handler = poller._on_generate_events
    waiting = threading.Thread(target=poller._generate_events, args=(ev,))
    waiting.start()
    ev.reduce_time_left(0)
    waiting.join(5)
    assert not waiting.is_alive()
    assert len(m) == 0


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_forked_child_has_its_own_wake_channel_and_keeps_its_watches(setup, pair):
    """After a fork (process mode, --jobs workers) the two processes share
    nothing: a wake-up byte from the parent cannot be eaten by the child, and
    the child's kernel poller still watches what the parent did."""
    m, poller, rec = setup
    a, b = pair
    poller.addReader(rec, a)
    parent_ctrl = os.fstat(poller._ctrl_fd).st_ino  # the number itself may be reused
    status_r, status_w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report through the pipe, never return into pytest
        code = 1
        try:
            own_channel = os.fstat(poller._ctrl_fd).st_ino != parent_ctrl
            b.send(b"x")
            poll_once(m, poller, 2.0)
            code = (0 if own_channel else 4) + (0 if ("read", a) in rec.got else 8)
        finally:
            os.write(status_w, bytes([code]))
            os._exit(0)
    os.close(status_w)
    try:
        result = os.read(status_r, 1)
    finally:
        os.close(status_r)
        os.waitpid(pid, 0)
    assert result == b"\x00", f"child reported {result!r}"
    assert os.fstat(poller._ctrl_fd).st_ino == parent_ctrl  # the parent's is untouched
