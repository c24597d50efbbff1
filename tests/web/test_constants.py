from __future__ import annotations

import circuits
from circuits.web.constants import (
    DEFAULT_ERROR_MESSAGE,
    HTTP_STATUS_CODES,
    POWERED_BY,
    SERVER_PROTOCOL,
    SERVER_URL,
    SERVER_VERSION,
)


def test_server_identity():
    assert SERVER_PROTOCOL == (1, 1)
    assert "circuits.web/" + circuits.__version__ == SERVER_VERSION
    assert SERVER_URL == "http://circuitsweb.com/"


def test_status_codes_3_2_5_spellings():
    assert HTTP_STATUS_CODES[203] == "Non Authoritative Information"
    assert HTTP_STATUS_CODES[207] == "Multi Status"
    assert HTTP_STATUS_CODES[418] == 'I"m a teapot'
    assert HTTP_STATUS_CODES[416] == "Requested Range Not Satisfiable"
    assert 308 not in HTTP_STATUS_CODES
    assert len(HTTP_STATUS_CODES) == 51


def test_error_page_template():
    banner = POWERED_BY % {"url": SERVER_URL, "version": SERVER_VERSION}
    assert banner.startswith('\n<div id="powered_by">')
    assert banner.endswith("</div>\n")
    page = DEFAULT_ERROR_MESSAGE % {
        "code": 404,
        "name": "Not Found",
        "description": "D",
        "traceback": "T",
        "powered_by": banner,
    }
    assert "<title>404 Not Found</title>" in page
    assert "<h1>Not Found</h1>" in page
    assert '<pre id="traceback">T</pre>' in page
    assert page.endswith("</html>\n")
