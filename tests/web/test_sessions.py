"""circuits.web.sessions: the Sessions component and the stores.

The component is tested in process (``web_client``, whose cookie jar plays the
browser); the Secure cookie over TLS against a real server.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import requests
from web_harness import make_tls_files, started

from circuits.web import Controller, Server, Sessions
from circuits.web.sessions import (
    FileStore,
    MemoryStore,
    RedisStore,
    Session,
    Store,
    create_session,
    verify_session,
    who,
)
from circuits.web.wrappers import Request

TIMEOUT_S = 5


class Root(Controller):
    def index(self):
        return f"Hello {self.session.get('name', 'World')}!"

    def test(self):  # the 3.2.5 idiom: saved when the block ends
        with self.session as data:
            data["name"] = "test"
        return "OK"

    def logout(self):
        self.session.expire()
        return "OK"

    def count(self):
        self.session["count"] = self.session.get("count", 0) + 1
        return str(self.session["count"])

    def append(self, item):  # a nested change, without assignment
        self.session.setdefault("items", [])
        self.session["items"].append(item)
        return ",".join(self.session["items"])

    def login(self):
        self.session.regenerate()
        self.session["user"] = "alice"
        return self.session.sid

    def sid(self):
        return self.session.sid

    def bad(self):
        self.session["x"] = object()
        return "unreachable with a JSON store"


def set_cookie(response) -> str | None:
    """The Set-Cookie fields, joined with ", " as requests does; ``None`` if there are none."""
    fields = response.headers.get("Set-Cookie")
    if isinstance(fields, list):  # WebClient keeps repeated Set-Cookie fields apart
        fields = ", ".join(fields)
    return fields


def cookie_value(header: str) -> str:
    name_value = header.split(";")[0]
    name, _, value = name_value.partition("=")
    assert name == "circuits"
    return value


@pytest.fixture
def client(web_client):
    """A browser-like client in process: ``WebClient`` keeps the cookies it is given."""
    return web_client(Sessions(), Root())


@contextmanager
def another_browser(client) -> Iterator[None]:
    """Requests inside the block carry none of ``client``'s cookies (and keep none)."""
    saved, client.cookies = client.cookies, {}
    try:
        yield
    finally:
        client.cookies = saved


def get_with_sid(client, path: str, sid: str):
    """``path`` from a client that holds only the session cookie ``sid``."""
    with another_browser(client):
        return client.get(path, cookies={"circuits": sid})


# -- the component, in process -----------------------------------------------------------------


def test_counter_increments_across_requests(client):
    bodies = [client.get("/count").text for _ in range(3)]
    assert bodies == ["1", "2", "3"]
    assert len(client.cookies.get("circuits")) == 43  # token_urlsafe(32)


def test_each_client_has_its_own_session(client):
    for _ in range(2):
        client.get("/count")
    with another_browser(client):
        assert client.get("/count").text == "1"
    assert client.get("/count").text == "3"


def test_cookie_attributes_over_plain_http(client):
    header = set_cookie(client.get("/count"))
    assert header is not None
    attributes = {part.strip().lower() for part in header.split(";")[1:]}
    assert attributes == {"httponly", "path=/", "samesite=lax"}  # no Secure without TLS


def test_a_session_that_stays_empty_sets_no_cookie(client):
    response = client.get("/")
    assert response.text == "Hello World!"
    assert set_cookie(response) is None


def test_the_3_2_5_expire_sequence(client):
    """test_sessions.test_expire of 3.2.5, plus what the cookie does."""
    assert client.get("/").text == "Hello World!"
    assert client.get("/test").text == "OK"
    sid = client.cookies["circuits"]
    assert client.get("/").text == "Hello test!"
    logout = client.get("/logout")
    assert logout.text == "OK"
    assert "max-age=0" in set_cookie(logout).lower()  # the browser drops the cookie
    assert "circuits" not in client.cookies
    # the old id, sent again by hand: an empty session, not the old data
    assert get_with_sid(client, "/", sid).text == "Hello World!"


def test_nested_changes_are_saved_too(client):
    assert client.get("/append/a").text == "a"
    assert client.get("/append/b").text == "a,b"


def test_a_forged_id_is_never_adopted(client):
    forged = create_session(None)  # well-formed, but the server never issued it
    response = get_with_sid(client, "/count", forged)
    assert response.text == "1"
    issued = cookie_value(set_cookie(response))
    assert issued != forged
    assert len(issued) == 43
    # the issued id works; the forged one still does not
    assert get_with_sid(client, "/count", issued).text == "2"
    assert get_with_sid(client, "/count", forged).text == "1"


@pytest.mark.parametrize("forged", ["../../etc/passwd", "x", "a" * 500, "abc/def0123456789"])
def test_a_malformed_id_is_replaced(client, forged):
    response = get_with_sid(client, "/sid", forged)
    assert response.text != forged
    assert len(response.text) == 43


def test_a_forged_id_is_not_echoed_back(client):
    """3.2.5 echoes request cookies as Set-Cookie; never the session cookie it refused."""
    forged = create_session(None)
    response = get_with_sid(client, "/", forged)
    assert forged not in (set_cookie(response) or "")


def test_regenerate_moves_the_data_to_a_new_id(client):
    client.get("/count")
    before = client.cookies["circuits"]
    after = client.get("/login").text
    assert after != before
    assert client.cookies["circuits"] == after
    assert client.get("/count").text == "2"  # data kept
    assert get_with_sid(client, "/count", before).text == "1"  # the old id is dead


def test_custom_cookie_name_and_options(web_client):
    client = web_client(Sessions("sid", secure=True, max_age=3600, samesite="Strict"), Root())
    header = set_cookie(client.get("/count"))
    assert header.startswith("sid=")
    attributes = {part.strip().lower() for part in header.split(";")[1:]}
    assert attributes == {"httponly", "path=/", "samesite=strict", "secure", "max-age=3600"}


# -- TLS ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory):
    return make_tls_files(tmp_path_factory)


@contextmanager
def serving_tls(certfile: str, *components) -> Iterator[int]:
    server = Server(("127.0.0.1", 0), secure=True, certfile=certfile, display_banner=False)
    with started(server, *components):
        yield int(server.port)


def test_the_cookie_is_secure_over_tls(tls_files):
    with serving_tls(tls_files["cert"], Sessions(), Root()) as port:
        response = requests.get(
            f"https://127.0.0.1:{port}/count", verify=tls_files["ca"], timeout=TIMEOUT_S
        )
    assert response.text == "1"
    attributes = {part.strip().lower() for part in set_cookie(response).split(";")[1:]}
    assert attributes == {"httponly", "path=/", "samesite=lax", "secure"}


# -- FileStore ---------------------------------------------------------------------------------


def test_file_store_survives_a_restart(tmp_path, web_client):
    first = web_client(Sessions(store=FileStore(tmp_path)), Root())
    assert first.get("/count").text == "1"
    assert first.get("/count").text == "2"
    first.close()
    # a new process would see the same: a new server, a new store, the same directory
    second = web_client(Sessions(store=FileStore(tmp_path)), Root())
    second.cookies = first.cookies  # the same browser
    assert second.get("/count").text == "3"


def test_a_json_store_refuses_other_values(tmp_path, web_client):
    response = web_client(Sessions(store=FileStore(tmp_path)), Root()).get("/bad")
    assert response.status == 500
    assert b"JSON" in response.body or b"Internal Server Error" in response.body
    assert b"Traceback" not in response.body


def test_file_store_files(tmp_path):
    store = FileStore(tmp_path / "sessions")
    sid = create_session(None)
    store.save(sid, {"a": 1, "b": ["x"]})
    path = tmp_path / "sessions" / f"{sid}.json"
    assert json.loads(path.read_text()) == {"a": 1, "b": ["x"]}
    assert os.listdir(tmp_path / "sessions") == [f"{sid}.json"]  # no temporary left
    if os.name == "posix":
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert stat.S_IMODE((tmp_path / "sessions").stat().st_mode) == 0o700
    assert store.exists(sid)
    assert store.load(sid) == {"a": 1, "b": ["x"]}
    store.delete(sid)
    assert not store.exists(sid)
    assert store.load(sid) == {}
    store.delete(sid)  # twice is fine


def test_file_store_expiry_and_purge(tmp_path):
    store = FileStore(tmp_path, timeout=60)
    old, fresh = create_session(None), create_session(None)
    store.save(old, {"n": 1})
    store.save(fresh, {"n": 2})
    past = time.time() - 120
    os.utime(tmp_path / f"{old}.json", (past, past))
    assert not store.exists(old)
    assert store.load(old) == {}
    store.save(old, {"n": 1})
    os.utime(tmp_path / f"{old}.json", (past, past))
    assert store.purge() == 1
    assert sorted(os.listdir(tmp_path)) == [f"{fresh}.json"]


def test_file_store_reading_restarts_the_idle_timeout(tmp_path):
    store = FileStore(tmp_path, timeout=60)
    sid = create_session(None)
    store.save(sid, {"n": 1})
    almost = time.time() - 50
    os.utime(tmp_path / f"{sid}.json", (almost, almost))
    assert store.load(sid) == {"n": 1}
    assert time.time() - (tmp_path / f"{sid}.json").stat().st_mtime < 10


def test_file_store_never_touches_paths_from_ids(tmp_path):
    store = FileStore(tmp_path / "s")
    (tmp_path / "secret.json").write_text('{"stolen": true}')
    assert store.load("../secret") == {}
    assert not store.exists("../secret")
    store.delete("../secret")
    assert (tmp_path / "secret.json").exists()
    with pytest.raises(ValueError, match="not a session id"):
        store.save("../secret", {})


def test_file_store_unreadable_file_starts_afresh(tmp_path, caplog):
    store = FileStore(tmp_path)
    sid = create_session(None)
    (tmp_path / f"{sid}.json").write_text("{not json")
    assert store.load(sid) == {}
    assert "unreadable" in caplog.text
    (tmp_path / f"{sid}.json").write_text("[1, 2]")
    assert store.load(sid) == {}


def test_json_store_values_are_checked_on_assignment(tmp_path):
    session = FileStore(tmp_path).load(create_session(None))
    session["ok"] = {"nested": [1, 2.5, None, True, "s"]}
    with pytest.raises(TypeError, match="not JSON-serialisable"):
        session["bad"] = {1, 2}
    with pytest.raises(TypeError, match="keys are str"):
        session[1] = "x"  # type: ignore[index]
    with pytest.raises(TypeError, match="not JSON-serialisable"):
        session.update(bad=object())
    assert "bad" not in session


def test_json_store_save_names_the_bad_key(tmp_path):
    store = FileStore(tmp_path)
    session = store.load(create_session(None))
    session["items"] = []
    session["items"].append(object())  # not seen on assignment
    with pytest.raises(TypeError, match="'items'"):
        session.save()


# -- Session and MemoryStore -------------------------------------------------------------------


def test_session_is_a_dict_with_an_id_and_a_store():
    store = MemoryStore()
    sid = create_session(None)
    session = store.load(sid)
    assert isinstance(session, dict)
    assert (session.sid, session.store, session) == (sid, store, {})
    with session as data:
        assert data is session
        data["k"] = "v"
    assert store.data[sid] == {"k": "v"}
    copy = store.load(sid)
    copy["k"] = "changed"  # a copy: unsaved changes stay out of the store
    assert store.data[sid] == {"k": "v"}


def test_the_with_block_does_not_save_on_error():
    store = MemoryStore()
    session = store.load(create_session(None))
    with pytest.raises(RuntimeError), session:
        session["k"] = "v"
        raise RuntimeError
    assert session.sid not in store.data


def test_an_expired_session_is_never_saved_again():
    store = MemoryStore()
    session = store.load(create_session(None))
    session["k"] = "v"
    session.save()
    session.expire()
    assert session.expired
    with session:
        session["k"] = "again"
    session.save()
    assert session.sid not in store.data


def test_modified_tracks_changes_since_load():
    store = MemoryStore()
    sid = create_session(None)
    store.save(sid, {"items": [1]})
    session = store.load(sid)
    assert not session.modified
    session["items"].append(2)
    assert session.modified
    session.save()
    assert not session.modified
    session.pop("missing", None)
    assert not session.modified
    del session["items"]
    assert session.modified


def test_memory_store_load_of_an_unknown_id_stores_nothing():
    store = MemoryStore()
    assert store.load(create_session(None)) == {}
    assert not store.data
    assert not store.exists("anything")


def test_memory_store_timeout(monkeypatch):
    now = [1000.0]
    monkeypatch.setattr("circuits.web.sessions._session.time.monotonic", lambda: now[0])
    store = MemoryStore(timeout=10)
    sid = create_session(None)
    store.save(sid, {"k": 1})
    now[0] += 9
    assert store.load(sid) == {"k": 1}  # used: the timeout starts again
    now[0] += 9
    assert store.exists(sid)
    now[0] += 11
    assert not store.exists(sid)
    assert sid not in store.data


def test_a_store_needs_load_save_delete():
    with pytest.raises(TypeError):
        Store()  # type: ignore[abstract]

    class Minimal(Store):
        def __init__(self):
            self.d = {}

        def load(self, sid):
            return Session(sid, self.d.get(sid, {}), self)

        def save(self, sid, data):
            self.d[sid] = data

        def delete(self, sid):
            self.d.pop(sid, None)

    store = Minimal()
    store.save("a" * 43, {"x": 1})
    assert store.exists("a" * 43)  # the default: it loads non-empty
    assert not store.exists("b" * 43)


def test_sessions_takes_a_store_class_or_instance(tmp_path):
    assert isinstance(Sessions().store, MemoryStore)
    store = FileStore(tmp_path)
    assert Sessions(store=store).store is store
    assert Sessions("x").name == "x"


# -- the 3.2.5 helper functions ----------------------------------------------------------------


def make_request(ip: str, agent: str) -> Request:
    req = Request(None)
    req.remote.ip = ip
    req.headers["User-Agent"] = agent
    return req


def test_who_hashes_address_and_user_agent():
    a = who(make_request("10.0.0.1", "curl"))
    assert len(a) == 40
    assert int(a, 16) >= 0
    assert a == who(make_request("10.0.0.1", "curl"))
    assert a != who(make_request("10.0.0.2", "curl"))
    assert a != who(make_request("10.0.0.1", "wget"))


def test_create_and_verify_session():
    req = make_request("10.0.0.1", "curl")
    sids = {create_session(req) for _ in range(100)}
    assert len(sids) == 100
    sid = sids.pop()
    assert verify_session(req, sid) == sid
    replaced = verify_session(req, "../etc/passwd")
    assert replaced != "../etc/passwd"
    assert verify_session(req, replaced) == replaced


# -- RedisStore --------------------------------------------------------------------------------


class FakeRedis:
    """Just the redis-py calls RedisStore makes, with expiry in whole seconds."""

    def __init__(self):
        self.data: dict[str, bytes] = {}
        self.ttl: dict[str, int] = {}

    def exists(self, key):
        return int(key in self.data)

    def get(self, key):
        return self.data.get(key)

    def set(self, key, value, ex=None):
        self.data[key] = value
        if ex is not None:
            self.ttl[key] = ex

    def expire(self, key, seconds):
        if key in self.data:
            self.ttl[key] = seconds

    def delete(self, key):
        self.data.pop(key, None)
        self.ttl.pop(key, None)

    def pipeline(self):
        fake = self

        class Pipe:
            def __init__(self):
                self.calls = []

            def __getattr__(self, name):
                return lambda *a, **kw: self.calls.append((name, a, kw))

            def execute(self):
                return [getattr(fake, name)(*a, **kw) for name, a, kw in self.calls]

        return Pipe()


def test_redis_store_logic_with_a_fake_client():
    fake = FakeRedis()
    store = RedisStore(client=fake, prefix="p:", timeout=30)
    sid = create_session(None)
    assert not store.exists(sid)
    store.save(sid, {"a": [1]})
    assert json.loads(fake.data[f"p:{sid}"]) == {"a": [1]}
    assert fake.ttl[f"p:{sid}"] == 30
    fake.ttl[f"p:{sid}"] = 1
    assert store.load(sid) == {"a": [1]}
    assert fake.ttl[f"p:{sid}"] == 30  # reading restarts the timeout
    store.delete(sid)
    assert not store.exists(sid)
    assert store.load("../x") == {}
    with pytest.raises(ValueError, match="not a session id"):
        store.save("bad id", {})


def test_redis_store_without_redis_py_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "redis", None)
    with pytest.raises(ImportError, match=r"circuits\[redis\]"):
        RedisStore()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def redis_url(tmp_path):
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("no redis-server binary on PATH: RedisStore is tested with a fake client only")
    pytest.importorskip("redis", reason="RedisStore needs redis-py (pip install 'circuits[redis]')")
    import redis

    port = free_port()
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    try:
        client = redis.Redis.from_url(url, socket_timeout=1)
        deadline = time.monotonic() + TIMEOUT_S
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                assert time.monotonic() < deadline, "redis-server did not start"
                threading.Event().wait(0.02)
        client.close()
        yield url
    finally:
        proc.terminate()
        proc.wait(TIMEOUT_S)


def test_redis_store_against_redis_server(redis_url, web_client):
    store = RedisStore(redis_url, timeout=60)
    first = web_client(Sessions(store=store), Root())
    assert first.get("/count").text == "1"
    assert first.get("/count").text == "2"
    first.close()
    second = web_client(Sessions(store=RedisStore(redis_url)), Root())
    second.cookies = first.cookies  # the same browser
    assert second.get("/count").text == "3"
    assert second.get("/logout").text == "OK"
    sid = create_session(None)
    store.save(sid, {"k": "v"})
    assert 0 < store.client.ttl(store.prefix + sid) <= 60
    assert store.load(sid) == {"k": "v"}
