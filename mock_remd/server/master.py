"""gunicorn's master for ``mock-remd serve``, in an interpreter of its own.

``serve`` checks the settings, opens the port and prepares the database in the command's process,
which imports the store, the validation layers and the command line to do so. It then replaces
itself (``exec``, the same process id, so signals and the ready line work as before) with this
module, which imports only what supervising needs: the settings, gunicorn and the worker class.
The HTTP workers it forks import the web layers and the store themselves, the background processes
their own. The listening socket and the settings (as JSON in an unlinked temporary file, so that
no secret shows in the process list) are handed over as inherited file descriptors; the environment
limits glibc's malloc arenas (:func:`mock_remd.config.serve_environment`).

A master that kept what the command imported held ~66 MiB of RSS; this one ~30 MiB (issue 16, goal 6).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import socket
import sys
import tempfile
from typing import NoReturn

from mock_remd.config import Settings, serve_environment


def become_master(settings: Settings, listener: socket.socket, *, verbose: bool = False) -> NoReturn:
    """Replace this process with gunicorn's master serving ``settings`` on ``listener``."""
    payload = tempfile.TemporaryFile()
    payload.write(json.dumps(dataclasses.asdict(settings)).encode())
    payload.flush()
    os.set_inheritable(payload.fileno(), True)
    listener.set_inheritable(True)
    args = [sys.executable, "-m", "mock_remd.server.master", str(listener.fileno()), str(payload.fileno())]
    if verbose:
        args.append("--verbose")
    sys.stdout.flush()
    sys.stderr.flush()
    # glibc reads MALLOC_ARENA_MAX when the process starts: the master's setting holds in the workers it
    # forks, and the background processes it starts inherit the variable
    os.execve(sys.executable, args, serve_environment())


def main(argv: list[str]) -> None:
    """Serve with the socket and settings handed over by :func:`become_master`."""
    from mock_remd.server.background_process import settings_from_json
    from mock_remd.server.gunicorn_app import run_gunicorn

    listen_fd, settings_fd = int(argv[0]), int(argv[1])
    with os.fdopen(settings_fd, "rb") as fh:
        fh.seek(0)
        settings = settings_from_json(fh.read().decode())
    if "--verbose" in argv[2:] and not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    run_gunicorn(settings, socket.socket(fileno=listen_fd))


if __name__ == "__main__":
    main(sys.argv[1:])
