"""Fixtures for the socket tests: a recorder and a loop thread (circuits.testing), TLS files."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack

import pytest
from net_support import Recorder

from circuits import Manager
from circuits.testing import running


@pytest.fixture
def app() -> Iterator[tuple[Manager, Recorder, Callable[..., None]]]:
    """A manager with a recorder; ``start()`` runs it (``testing.running``) until teardown."""
    m = Manager()
    rec = Recorder().register(m)
    with ExitStack() as stack:
        yield m, rec, lambda: stack.enter_context(running(m))


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory):
    """A CA and a server certificate for 127.0.0.1/localhost/::1 (made by trustme)."""
    trustme = pytest.importorskip("trustme", reason="TLS tests need the 'test' extra (trustme)")
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost", "::1")
    d = tmp_path_factory.mktemp("tls")
    ca_path = d / "ca.pem"
    cert_path = d / "server.pem"  # key and chain in one file
    ca.cert_pem.write_to_path(str(ca_path))
    cert.private_key_and_cert_chain_pem.write_to_path(str(cert_path))
    return {"ca": str(ca_path), "cert": str(cert_path), "ca_obj": ca}
