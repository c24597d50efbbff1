"""Worker and task: thread pools (concurrency, results, failures) and process pools."""

from __future__ import annotations

import os
import threading
import warnings

import pytest

from circuits import Component, Event, Manager, Worker, handler, task

# Three tasks meet here: if the pool ran them one after another the barrier
# would break (BrokenBarrierError) instead of releasing them together.
BARRIER_TIMEOUT = 5


def add(a, b):
    return a + b


def getpid():
    return os.getpid()


def fail(message):
    raise ValueError(message)


class go(Event):
    pass


def test_task_event():
    e = task(add, 1, 2, x=3)
    assert e.name == "task"
    assert e.args == [add, 1, 2]
    assert e.kwargs == {"x": 3}
    assert task.success is True
    assert task.failure is True
    assert "success" not in vars(e)
    assert "failure" not in vars(e)


def test_worker_attributes():
    w = Worker()
    w2 = Worker(workers=3, channel="w2")
    try:
        assert w.channel == "worker"
        assert w.workers == 10
        assert w2.workers == 3
        assert w2.channel == "w2"
    finally:
        for worker in (w, w2):
            worker.pool.close()
            worker.pool.join()


def test_call_a_task_in_thread_mode(running):
    done = threading.Event()

    class App(Component):
        def init(self):
            self.result = None
            Worker().register(self)

        def go(self):
            r = yield self.call(task(add, 1, 2), "worker")
            self.result = r
            done.set()

    app = running(App())
    app.fire(go())
    assert done.wait(5), "the call never returned"
    assert app.result.value == 3
    assert not app.result.errors


def test_three_tasks_run_concurrently(running):
    done = threading.Event()
    all_done = threading.Event()
    barrier = threading.Barrier(3, timeout=BARRIER_TIMEOUT)

    def meet(label):
        barrier.wait()  # breaks unless all three run at the same time
        return label, threading.current_thread().name

    class App(Component):
        def init(self):
            self.results = []
            self.succeeded = []
            Worker().register(self)

        def go(self):
            self.fire(task(meet, "b"), "worker")
            self.fire(task(meet, "c"), "worker")
            r = yield self.call(task(meet, "a"), "worker")
            self.results.append(r.value[0])
            done.set()

        @handler("task_success", channel="*")
        def _success(self, evt, value):
            self.succeeded.append(value)
            if len(self.succeeded) == 3:
                all_done.set()

    app = running(App())
    app.fire(go())
    assert done.wait(10), "the call never returned"
    assert app.results == ["a"]
    assert all_done.wait(10), "not all tasks succeeded"
    assert sorted(label for label, _ in app.succeeded) == ["a", "b", "c"]
    assert len({name for _, name in app.succeeded}) == 3  # three pool threads at once


def test_a_failing_task_fires_task_failure_and_no_success(running):
    failed = threading.Event()
    reported = threading.Event()

    class App(Component):
        def init(self):
            self.log: list[object] = []
            Worker().register(self)

        def go(self):
            self.value = self.fire(task(fail, "bad task"), "worker")

        @handler("task_failure", channel="*")
        def _failure(self, evt, excinfo):
            self.log.append(("failure", excinfo))
            failed.set()

        @handler("task_success", channel="*")
        def _success(self, evt, value):
            self.log.append(("success", value))

        @handler("exception", channel="*")
        def _exception(self, etype, evalue, tb, handler=None, fevent=None):
            self.log.append(("exception", etype, handler))
            reported.set()

    app = running(App())
    app.fire(go())
    assert failed.wait(5), "no 'task_failure'"
    assert reported.wait(5), "no 'exception'"
    synced = threading.Event()
    app.addHandler(handler("sync")(lambda self: synced.set()))
    app.fire(Event.create("sync"))  # queued after anything the failure produced
    assert synced.wait(5), "no 'sync'"
    (kind, excinfo) = app.log[0]
    assert kind == "failure"
    etype, evalue, _ = excinfo
    assert etype is ValueError
    assert str(evalue) == "bad task"
    assert not any(entry[0] == "success" for entry in app.log)
    assert ("exception", ValueError, None) in app.log
    assert app.value.errors
    assert app.value.value[0] is ValueError


def test_the_worker_pool_closes_on_stopped():
    m = Manager()
    w = Worker().register(m)
    m.fire(Event.create("stopped", m))
    while len(m):
        m.flush()
    with pytest.raises(ValueError):
        w.pool.apply_async(add, (1, 2))


@pytest.mark.slow
def test_process_mode(running):
    done = threading.Event()

    class App(Component):
        def init(self):
            self.results: list[object] = []
            with warnings.catch_warnings():
                # forking with threads alive warns on newer Pythons
                warnings.simplefilter("ignore", DeprecationWarning)
                Worker(process=True, workers=2).register(self)

        def go(self):
            r = yield self.call(task(add, 20, 22), "worker")
            self.results.append(r.value)
            r = yield self.call(task(getpid), "worker")
            self.results.append(r.value)
            done.set()

    app = running(App())
    app.fire(go())
    assert done.wait(20), "the process task never returned"
    assert app.results[0] == 42
    assert app.results[1] != os.getpid()
