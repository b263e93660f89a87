"""One WSGI application: the SOAP endpoint beside the admin API (and the dashboard)."""

from __future__ import annotations

import re
import socket
from collections.abc import Iterable
from typing import Any

from mock_remd.admin.app import create_admin_app
from mock_remd.runtime import Runtime
from mock_remd.server.buffering_worker import NODELAY_SET
from mock_remd.soap.app import SoapApp

#: the REMD path and IPS-style opaque paths (one 13-hex segment) are the SOAP endpoint
_SOAP_PATH = re.compile(r"^/(port/emdr/?|[0-9a-f]{13}/?)$")


class MockRemdApp:
    """Routes ``/port/emdr`` to the SOAP endpoint and everything else to Flask."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        wsse = None
        if runtime.settings.check_wsse:
            from mock_remd.validation.signatures.wsse import check_wsse

            def wsse(root: Any) -> list[str]:
                return [f.message for f in check_wsse(root)]
        self.soap = SoapApp(
            runtime.service,
            max_request_bytes=runtime.settings.max_request_bytes,
            require_message_id=runtime.settings.require_message_id,
            wsse_check=wsse,
        )
        self.admin = create_admin_app(runtime)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        sock = environ.get("gunicorn.socket")
        if sock is not None and not environ.get(NODELAY_SET):
            # gunicorn writes the headers and the body in two sends: without TCP_NODELAY, Nagle's
            # algorithm and the client's delayed ACK add ~40 ms to every keep-alive answer
            try:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            except OSError:
                pass
        if _SOAP_PATH.match(environ.get("PATH_INFO", "")):
            return self.soap(environ, start_response)
        return self.admin(environ, start_response)


def make_app(runtime: Runtime) -> MockRemdApp:
    """The application for ``runtime``."""
    return MockRemdApp(runtime)
