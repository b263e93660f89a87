"""``mock-remd serve``: gunicorn (gthread workers, ``--reuse-port``) plus background processes.

The schema and the configured systems are prepared once in the master. The HTTP workers answer
SOAP and admin calls; document processing and callback delivery run in separate background
processes started by the master (validation holds the GIL: it must not share a process with the
request threads). With an in-memory store everything runs in one worker process instead.
SIGTERM stops gracefully: requests in flight finish, accepted work stays in the store.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
import urllib.request
from typing import Any

from gunicorn.app.base import BaseApplication

from mock_remd.config import Settings
from mock_remd.server.background_process import BackgroundProcesses

log = logging.getLogger(__name__)


def ready_line(settings: Settings) -> str:
    """The one line printed when the server can serve (log-based wait strategies match it)."""
    return f"mock-remd ready on http://{settings.host}:{settings.port}"


class GunicornServer(BaseApplication):
    """gunicorn wrapper configured from :class:`Settings` only."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.runtime: Any = None
        self.single_process = _is_memory(settings.db_url)
        self.background: BackgroundProcesses | None = None
        super().__init__()

    def load_config(self) -> None:
        s = self.settings
        cfg = {
            "bind": [f"{s.host}:{s.port}"],
            "workers": 1 if self.single_process else s.workers,
            "worker_class": "gthread",
            "threads": s.threads,
            "reuse_port": True,
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
        from mock_remd.server.runtime import Runtime
        from mock_remd.server.wsgi import make_app

        self.runtime = Runtime(self.settings, seed_systems=False, role="all" if self.single_process else "http")
        return make_app(self.runtime)

    def _when_ready(self, server: Any) -> None:
        if not self.single_process:
            count = self.settings.processors or self.settings.workers
            self.background = BackgroundProcesses(self.settings, count)
            self.background.start()
        # With reuse_port the workers bind their own sockets after they boot, so the master being
        # ready does not mean anything listens yet: announce once /ready answers 200.
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


def serve(settings: Settings) -> int:
    """Prepare the store, then run gunicorn until stopped."""
    from mock_remd.server.runtime import prepare_store

    prepare_store(settings)
    sys.argv = sys.argv[:1]  # gunicorn must not parse our options
    GunicornServer(settings).run()
    return 0
