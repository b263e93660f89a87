"""``mock-remd serve``: gunicorn (gthread workers, ``--reuse-port``), one Runtime per worker.

The schema and the configured systems are prepared once in the master; each worker builds its
runtime after fork and starts its processor and callback sender there (never at import).
SIGTERM stops gracefully: requests in flight finish, accepted work stays in the store.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

from gunicorn.app.base import BaseApplication

from mock_remd.config import Settings

log = logging.getLogger(__name__)


def ready_line(settings: Settings) -> str:
    """The one line printed when the server can serve (log-based wait strategies match it)."""
    return f"mock-remd ready on http://{settings.host}:{settings.port}"


class GunicornServer(BaseApplication):
    """gunicorn wrapper configured from :class:`Settings` only."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.runtime: Any = None
        super().__init__()

    def load_config(self) -> None:
        s = self.settings
        cfg = {
            "bind": [f"{s.host}:{s.port}"],
            "workers": s.workers,
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
        }
        for key, value in cfg.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        from mock_remd.server.runtime import Runtime
        from mock_remd.server.wsgi import make_app

        self.runtime = Runtime(self.settings, seed_systems=False)
        return make_app(self.runtime)

    def _when_ready(self, server: Any) -> None:
        print(ready_line(self.settings), flush=True)

    def _post_worker_init(self, worker: Any) -> None:
        app = worker.wsgi
        app.runtime.start_background()

    def _worker_exit(self, server: Any, worker: Any) -> None:
        app = getattr(worker, "wsgi", None)
        if app is not None and getattr(app, "runtime", None) is not None:
            app.runtime.stop()


def serve(settings: Settings) -> int:
    """Prepare the store, then run gunicorn until stopped."""
    from mock_remd.server.runtime import prepare_store

    prepare_store(settings)
    sys.argv = sys.argv[:1]  # gunicorn must not parse our options
    GunicornServer(settings).run()
    return 0
