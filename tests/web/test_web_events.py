from __future__ import annotations

import pytest

from circuits.core.events import Event
from circuits.web import events
from circuits.web.events import request, response, stream, terminate


def test_event_is_the_core_event():
    assert events.Event is Event


@pytest.mark.parametrize("cls", [request, response, stream])
def test_request_response_stream_report_success_failure_complete(cls):
    e = cls(1, 2)
    assert (e.success, e.failure, e.complete) == (True, True, True)
    assert e.name == cls.__name__
    assert e.args == [1, 2]


def test_terminate_is_plain():
    e = terminate()
    assert e.name == "terminate"
    assert (e.success, e.failure, e.complete) == (False, False, False)
    assert e.args == []
