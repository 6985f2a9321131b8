"""The desk's access log leaves out query strings: searches carry names and phone numbers."""

from __future__ import annotations

import logging

import pytest
from aiohttp import web
from aiohttp.test_utils import make_mocked_request

from handoff.desk.app import AccessLog


def test_the_access_log_shows_the_path_and_never_the_query(
    caplog: pytest.LogCaptureFixture,
) -> None:
    log = AccessLog(logging.getLogger("handoff.desk.access"), "")
    request = make_mocked_request("GET", "/api/search?q=Ana+%2B5215512345678")
    with caplog.at_level(logging.INFO, logger="handoff.desk.access"):
        log.log(request, web.Response(status=200), 0.0123)
    (line,) = caplog.messages
    assert line == "GET /api/search 200 12.3ms"
