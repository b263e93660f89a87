"""``mock-remd serve``: gunicorn (buffering gthread workers, one listening socket) plus background processes.

The schema and the configured systems are prepared once in the master. The HTTP workers answer
SOAP and admin calls; document processing and callback delivery run in separate background
processes started by the master (validation holds the GIL: it must not share a process with the
request threads). With an in-memory store everything runs in one worker process instead.
SIGTERM stops gracefully: requests in flight finish, accepted work stays in the store.

The listening socket is opened here, before gunicorn starts, without ``SO_REUSEPORT``: a second
server on a busy port fails at once with one sentence instead of sharing the port (the kernel would
split requests between two independent servers). The workers of one server share that socket.
"""

from __future__ import annotations

import encodings.idna  # noqa: F401 - see below
import errno
import logging
import os
import socket
import sys
import threading
import time
import urllib.request
from typing import Any, NoReturn

from gunicorn.app.base import BaseApplication

from mock_remd.config import Settings
from mock_remd.server.background_process import BackgroundProcesses

log = logging.getLogger(__name__)

# The master forks workers while its threads (the ready announcer, the background watcher) run: a
# module one of them imports for the first time at that moment stays locked forever in the forked
# worker, which then hangs on its own import of it. The master imports little (server/master.py), so
# what those threads use is imported here, up front: urllib's first connection imports the IDNA codec.


def ready_line(settings: Settings) -> str:
    """The one line printed when the server can serve (log-based wait strategies match it)."""
    return f"mock-remd ready on http://{settings.host}:{settings.port}"


class ServeError(Exception):
    """The server cannot start; ``key`` and ``values`` make the one-sentence message (user_messages)."""

    def __init__(self, key: str, **values: object) -> None:
        self.key, self.values = key, values
        super().__init__(key)


def open_listener(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host:port`` (no ``SO_REUSEPORT``); :class:`ServeError` when impossible."""
    bind_host = host.strip("[]") or "0.0.0.0"
    try:
        infos = socket.getaddrinfo(bind_host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise ServeError("serve.unknown_host", host=host) from exc
    family, _type, _proto, _canon, address = infos[0]
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        # SO_REUSEADDR only lets a restart bind past TIME_WAIT; it never shares a port with a live listener
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        key = {errno.EADDRINUSE: "serve.port_in_use", errno.EADDRNOTAVAIL: "serve.no_address",
               errno.EACCES: "serve.bind_denied"}.get(exc.errno or 0, "serve.bind_failed")
        raise ServeError(key, host=host, port=port) from exc
    sock.set_inheritable(True)
    return sock


class GunicornServer(BaseApplication):
    """gunicorn wrapper configured from :class:`Settings` only."""

    def __init__(self, settings: Settings, listener: socket.socket | None = None) -> None:
        self.settings = settings
        self.listener = listener
        self.runtime: Any = None
        self.single_process = _is_memory(settings.db_url)
        self.background: BackgroundProcesses | None = None
        super().__init__()

    def load_config(self) -> None:
        s = self.settings
        cfg = {
            "bind": [f"fd://{self.listener.fileno()}"] if self.listener is not None else [f"{s.host}:{s.port}"],
            "workers": 1 if self.single_process else s.workers,
            # gthread whose event loop reads each request whole before a thread serves it
            "worker_class": "mock_remd.server.buffering_worker.BufferingWorker",
            "threads": s.threads,
            "reuse_port": False,
            "timeout": 120,
            "graceful_timeout": 30,
            "keepalive": 5,
            "accesslog": None,
            "errorlog": "-",
            "loglevel": "warning",
            "proc_name": "mock-remd",
            "limit_request_line": 8190,
            "when_ready": self._when_ready,
            "post_worker_init": self._post_worker_init,
            "worker_exit": self._worker_exit,
            "on_exit": self._on_exit,
        }
        for key, value in cfg.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        from mock_remd.runtime import Runtime
        from mock_remd.server.wsgi import make_app

        # an in-memory store lives in the worker: the systems (the demo one included) are loaded there
        self.runtime = Runtime(self.settings, seed_systems=self.single_process,
                               role="all" if self.single_process else "http")
        return make_app(self.runtime)

    def _when_ready(self, server: Any) -> None:
        if not self.single_process:
            count = self.settings.background_processes()
            self.background = BackgroundProcesses(self.settings, count)
            self.background.start()
        # The workers boot (and the background processes start) after the master is ready:
        # announce once /ready answers 200.
        threading.Thread(target=self._announce, name="mock-remd-ready", daemon=True).start()

    def _announce(self, timeout: float = 300.0) -> None:
        s = self.settings
        host = "127.0.0.1" if s.host in ("0.0.0.0", "") else ("::1" if s.host in ("::", "[::]") else s.host)
        url = f"http://{'[' + host + ']' if ':' in host else host}:{s.port}/ready"
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with opener.open(url, timeout=2) as resp:
                    if resp.status == 200:
                        print(ready_line(s), flush=True)
                        return
            except OSError:
                pass
            time.sleep(0.05)  # the workers are booting; nothing to block on but time
        log.warning("mock-remd: %s did not answer 200 within %.0f s", url, timeout)

    def _post_worker_init(self, worker: Any) -> None:
        app = worker.wsgi
        app.runtime.start_background()

    def _on_exit(self, server: Any) -> None:
        if self.background is not None:
            self.background.stop()

    def _worker_exit(self, server: Any, worker: Any) -> None:
        app = getattr(worker, "wsgi", None)
        if app is not None and getattr(app, "runtime", None) is not None:
            app.runtime.stop()


def _is_memory(url: str) -> bool:
    return url in ("sqlite://", "sqlite:///:memory:") or "mode=memory" in url


def serve(settings: Settings, *, verbose: bool = False) -> NoReturn:
    """Open the port, prepare the store, then become gunicorn's master (:mod:`mock_remd.server.master`,
    the same process) until stopped; :class:`ServeError` if it cannot start."""
    from mock_remd.server.master import become_master

    listener = open_listener(settings.host, settings.port)
    try:
        check_database(settings)
    except ServeError:
        listener.close()
        raise
    become_master(settings, listener, verbose=verbose)


def run_gunicorn(settings: Settings, listener: socket.socket) -> None:
    """Run gunicorn's master on ``listener`` until stopped."""
    sys.argv = sys.argv[:1]  # gunicorn must not parse our options
    GunicornServer(settings, listener).run()


def _check_sqlite_folder(url: str) -> None:
    """A SQLite file needs a folder this user may write (the database, its WAL and lock files): a
    host folder owned by root mounted on the image's ``/data`` is refused with the fix in one sentence."""
    from mock_remd.store.engine import sqlite_file

    path = sqlite_file(url)
    if path is None:
        return
    folder = path.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    for target in (folder, path):
        if target.exists() and not os.access(target, os.W_OK):
            raise ServeError("serve.db_not_writable", path=str(target), uid=os.getuid())


def check_database(settings: Settings) -> None:
    """Create the schema and load the systems; :class:`ServeError` when the database cannot be used."""
    from mock_remd.runtime import prepare_store
    from mock_remd.store.engine import BadStoreUrl, shown_url
    from mock_remd.store.faults import is_store_error

    try:
        shown = shown_url(settings.db_url)
    except BadStoreUrl as exc:
        raise ServeError("config.db_kind", setting=settings.label("db_url"), value=settings.db_url) from exc
    _check_sqlite_folder(settings.db_url)
    try:
        prepare_store(settings)
    except ModuleNotFoundError as exc:
        log.debug("database driver missing", exc_info=True)
        raise ServeError("serve.db_driver", setting=settings.label("db_url"), url=shown) from exc
    except Exception as exc:
        if not (isinstance(exc, OSError) or is_store_error(exc)):
            raise
        log.debug("database unreachable", exc_info=True)
        raise ServeError("serve.db_unreachable", url=shown, exc=exc) from exc
