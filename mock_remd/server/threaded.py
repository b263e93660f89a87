"""An in-process server on a background thread (tests, the pytest plugin, embedding)."""

from __future__ import annotations

import threading
from typing import Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from mock_remd.config import Settings
from mock_remd.runtime import Runtime
from mock_remd.server.wsgi import make_app


class _QuietHandler(WSGIRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_request(self, *args: Any, **kwargs: Any) -> None:  # no access log in tests
        pass


class ThreadedServer:
    """A running mock-remd on ``host:port`` (port 0 picks a free one), in this process."""

    def __init__(self, settings: Settings | None = None, *, poll_interval: float = 0.05, background: bool = True,
                 **overrides: Any) -> None:
        if settings is None:
            settings = Settings.load({"db_url": "sqlite://", "port": 0, **overrides}, environ={})
        self.settings = settings
        self.runtime = Runtime(settings, poll_interval=poll_interval)
        #: False: answer SOAP and admin calls but never process or deliver (accepted work waits in the store)
        self.background = background
        self.app = make_app(self.runtime)
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        assert self._server is not None, "server not started"
        return int(self._server.server_port)

    @property
    def url(self) -> str:
        host = self.settings.host if self.settings.host not in ("0.0.0.0", "") else "127.0.0.1"
        return f"http://{host}:{self.port}"

    @property
    def soap_url(self) -> str:
        return self.url + "/port/emdr"

    def start(self) -> ThreadedServer:
        """Bind, start the background loops and serve on a daemon thread."""
        self._server = make_server(self.settings.host, self.settings.port, self.app, threaded=True,
                                   request_handler=_QuietHandler)
        self._server.daemon_threads = True
        if self.background:
            self.runtime.start_background()
        # serve_forever notices stop() only at its next poll: socketserver's 0.5 s made every stop take
        # half a second (hundreds of servers in a test run); an idle select 20 times a second costs nothing
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="mock-remd-http", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and stop the loops (the store keeps accepted work)."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        self.runtime.stop()

    def __enter__(self) -> ThreadedServer:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()
