"""Parsers of HTTP messages, query strings and multipart form data (compatibility API).

The parsing itself happens in the sans-I/O engines of :mod:`circuits._sansio`.
"""

from __future__ import annotations

from .http import BAD_FIRST_LINE as BAD_FIRST_LINE, HttpParser as HttpParser
from .multipart import MultipartParser as MultipartParser
from .querystring import QueryStringParser as QueryStringParser

__all__ = ["BAD_FIRST_LINE", "HttpParser", "MultipartParser", "QueryStringParser"]
