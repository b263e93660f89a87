"""A callback sink in its own process (so it does not share the load generator's GIL).

It appends ``<relatesToMessage>\\t<wall time>`` for each acknowledged callback to a file.
"""

from __future__ import annotations

import multiprocessing
import re
import socket
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

_RELATES = re.compile(rb"<ns2:relatesToMessage>([^<]+)</ns2:relatesToMessage>")
_REPLY = b'<?xml version="1.0"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body/></soap:Envelope>'


def _serve(port_queue: multiprocessing.Queue, log_path: str) -> None:
    log = open(log_path, "a", buffering=1)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args) -> None:  # noqa: ANN002
            pass

        def setup(self) -> None:
            super().setup()
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            m = _RELATES.search(body)
            log.write(f"{m.group(1).decode() if m else '?'}\t{time.time():.6f}\n")
            self.send_response(200)
            self.send_header("Content-Type", "text/xml; charset=utf-8")
            self.send_header("Content-Length", str(len(_REPLY)))
            self.end_headers()
            self.wfile.write(_REPLY)

    class Server(ThreadingHTTPServer):
        daemon_threads = True

        def handle_error(self, request, client_address) -> None:  # noqa: ANN001
            # a sender that resets its connection after the answer (WireMock's webhook client does)
            # is not news: the stock handler would print a traceback per connection into the bench output
            pass

    server = Server(("127.0.0.1", 0), Handler)
    port_queue.put(server.server_address[1])
    server.serve_forever()


def start_sink(log_path: str) -> tuple[multiprocessing.Process, int]:
    """Start the sink process; returns it and its port."""
    ctx = multiprocessing.get_context("spawn")
    q: multiprocessing.Queue = ctx.Queue()
    proc = ctx.Process(target=_serve, args=(q, log_path), daemon=True)
    proc.start()
    return proc, int(q.get(timeout=30))


def read_arrivals(log_path: str) -> dict[str, float]:
    """relatesToMessage → first arrival time."""
    out: dict[str, float] = {}
    try:
        with open(log_path) as f:
            for line in f:
                key, _, t = line.rstrip("\n").partition("\t")
                if key and t:
                    out.setdefault(key.lower(), float(t))
    except FileNotFoundError:
        pass
    return out
