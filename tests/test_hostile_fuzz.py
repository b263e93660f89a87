"""Issue 14's probes as properties (hypothesis): YAML with anchors and aliases, outgoing URLs, raw HTTP
requests to a real ``mock-remd serve``, and callers without or with foreign credentials.

A bounded, derandomized sample runs by default (``MOCK_REMD_FUZZ_EXAMPLES``, default 8 per
property); ``make fuzz`` runs many more.
"""

from __future__ import annotations

import os
import socket
import time
from urllib.parse import urlsplit

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from instances import start_serve, stop, wait_ready, write_config
from remd_requests import DEMO_CLIENT, post, register_request, sync_codes

from mock_remd import yamlsafe
from mock_remd.core.urls import url_problem
from mock_remd.soap.builders import register_envelope

EXAMPLES = int(os.environ.get("MOCK_REMD_FUZZ_EXAMPLES", "8"))
FUZZ = settings(max_examples=EXAMPLES, derandomize=EXAMPLES <= 20, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


# ---- YAML ------------------------------------------------------------------------------------------
@st.composite
def alias_yaml(draw) -> str:
    """Lines ``kN: &kN [...]`` whose items are scalars or aliases of earlier anchors (bombs included)."""
    lines = []
    for n in range(draw(st.integers(1, 12))):
        width = draw(st.integers(1, 12))
        items = [draw(st.sampled_from([f"*k{m}" for m in range(n)] or ["x"]) | st.just('"lol"'))
                 for _ in range(width)]
        nest = draw(st.integers(0, 3))
        value = "[" * nest + "[" + ", ".join(items) + "]" + "]" * nest
        lines.append(f"k{n}: &k{n} {value}")
    if draw(st.booleans()):
        lines.append("self: &s [*s]")
    return "\n".join(lines) + "\n"


@FUZZ
@given(alias_yaml())
def test_yaml_loads_or_names_a_limit(text):
    try:
        yamlsafe.load(text)
    except yamlsafe.YamlLimitError as exc:
        assert exc.limit in ("max_values", "max_depth", "max_aliases", "recursion", "max_bytes")
    except yamlsafe.YamlSyntaxError:
        pass


@FUZZ
@given(st.text(max_size=300))
def test_yaml_never_raises_anything_else(text):
    try:
        yamlsafe.load(text)
    except (yamlsafe.YamlLimitError, yamlsafe.YamlSyntaxError):
        pass


# ---- URLs ------------------------------------------------------------------------------------------
_URL_PARTS = st.tuples(
    st.sampled_from(["http", "HTTP", "https", "HtTpS", "file", "ftp", "javascript", ""]),
    st.sampled_from(["://", ":/", ":", "://user:pw@", "://u@"]),
    st.sampled_from(["", "127.0.0.1", "example.test", "[::1]", "h\r\nX: y", "a b", "[bad"]),
    st.sampled_from(["", ":0", ":1", ":8080", ":65535", ":65536", ":99999", ":-1", ":x"]),
    st.sampled_from(["", "/", "/cb", "/cb?x=1", "/c\x00b", "/ü"]),
)


@FUZZ
@given(st.one_of(_URL_PARTS.map("".join), st.text(max_size=80)))
def test_accepted_urls_are_absolute_http_with_host_and_port(url):
    if url_problem(url) is not None:
        return
    parts = urlsplit(url)
    assert parts.scheme.lower() in ("http", "https")
    assert parts.hostname and parts.username is None and parts.password is None
    assert parts.port is None or 0 < parts.port < 65536
    assert not any(ord(c) < 0x21 or ord(c) == 0x7F for c in url)


# ---- raw HTTP against a real server ----------------------------------------------------------------
@pytest.fixture(scope="module")
def served(tmp_path_factory):
    from mock_remd.client.sink import CallbackSink

    tmp = tmp_path_factory.mktemp("fuzz-serve")
    sink = CallbackSink().start()
    config = write_config(tmp, sink.url)
    log = tmp / "serve.log"
    proc, url = start_serve(f"sqlite:///{tmp / 'remd.db'}", config, log, workers=1, processors=1)
    try:
        wait_ready(proc, url, log)
        yield url
    finally:
        stop(proc)
        sink.stop()


_LINES = st.sampled_from([b"POST /port/emdr HTTP/1.1", b"GET /health HTTP/1.1", b"POST /_admin/reset HTTP/1.0",
                          b"POST /port/emdr?" + b"q" * 9000 + b" HTTP/1.1", b"\x16\x03\x01\x02", b"GET", b""])
_HEADERS = st.lists(st.sampled_from([b"Host: x", b"Content-Length: 5", b"Content-Length: -1",
                                     b"Content-Length: 99999999999999999999", b"Transfer-Encoding: chunked",
                                     b"Transfer-Encoding: gzip", b"Expect: 100-continue", b"X-Big: " + b"b" * 9000,
                                     b"Bad Header", b"Content-Type: text/xml"]), max_size=5)
_BODIES = st.sampled_from([b"", b"hello", b"5\r\nhello\r\n0\r\n\r\n", b"zz\r\n", b"<a/>" * 10, b"\x00\xff" * 8])


def _exchange(url: str, data: bytes) -> bytes:
    port = int(url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=15) as s:
        s.sendall(data)
        s.shutdown(socket.SHUT_WR)  # the client is done: the server answers or closes, never waits
        out = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                return out
            out += chunk


@FUZZ
@given(_LINES, _HEADERS, _BODIES)
def test_raw_requests_get_an_answer_never_an_html_page(served, line, headers, body):
    answer = _exchange(served, line + b"\r\n" + b"".join(h + b"\r\n" for h in headers) + b"\r\n" + body)
    if answer:
        status = answer.split(b"\r\n", 1)[0]
        assert status.startswith(b"HTTP/1."), answer[:200]
        assert b"<html" not in answer.lower()
        assert b"Traceback" not in answer
    assert requests.get(served + "/health", timeout=10).status_code == 200


# ---- credentials ------------------------------------------------------------------------------------
@FUZZ
@given(st.sampled_from(["", " ", "unknown", DEMO_CLIENT.upper(), "00000000-0000-4000-8000-0000000000bb"]),
       st.sampled_from(["", "demo", "sysB", "other"]))
def test_the_caller_is_its_client_entity_id(served, client_id, system):
    req = register_request(client_entity_id=client_id, system=system)
    codes = sync_codes(post(served + "/port/emdr", register_envelope(req, version="1.2")))
    if client_id.strip().lower() != DEMO_CLIENT:
        assert codes == ["NO_RMIS"]
    elif system not in ("", "demo"):
        assert codes == ["VALIDATION_ERROR"]
    else:
        assert codes == []
    time.sleep(0)  # keeps the example loop interruptible
