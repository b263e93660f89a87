"""A gunicorn worker that reads each request whole before a thread serves it.

gunicorn's ``gthread`` worker hands a connection to a request thread as soon as its first bytes
arrive; the thread then blocks reading headers and body. Sixteen clients sending one byte a second
held every thread of a two-worker server, and nothing, not even ``/health``, was answered.

Here the worker's event loop (the selector gthread already runs) reads requests without blocking,
framed by httptools (the bindings of llhttp, Node's HTTP/1.1 parser, in C: h11 in pure Python cost
a tenth of a registration's CPU), and gives a connection to a thread only when its request is
complete (or broken: gunicorn's own parser then answers the error). So:

* request threads only ever work on complete requests: slow clients cost a buffer, not a thread;
* a request must arrive within :data:`HEADER_TIMEOUT` (headers) and :data:`BODY_TIMEOUT` (body),
  else the connection is closed;
* at most :data:`PER_CLIENT` incomplete requests per client address and :data:`PENDING_LIMIT` in
  all are kept per worker: beyond that the oldest incomplete one is dropped, so a new request
  (``/health``, a registration) always gets in;
* a body over :data:`SPOOL_BYTES` is spooled to a temporary file, not kept in worker memory;
* gunicorn's own error pages (400, 414, 431 …) are replaced by a SOAP Fault on the SOAP endpoint
  and a JSON error elsewhere;
* an answer the application gives after its call returned (a plain registration, answered once its
  write is committed: :data:`~mock_remd.soap.later.ANSWER_LATER`) is sent by the thread that committed
  it, which hands the connection back: the request thread does not wait for the commit (up to eight
  threads parked on commits all woke at once after each: GIL hand-offs, not work);
* such a request is served by the event loop itself when the application can take its answer
  without waiting (:meth:`BufferingWorker._serve_inline`: no request thread woken, the writes of the
  requests one wait brought committed together after them); whatever could wait goes to a request
  thread (the application raises :class:`~mock_remd.soap.later.NeedsThread` before doing anything).
"""

from __future__ import annotations

import collections
import contextlib
import ctypes
import ctypes.util
import dataclasses
import errno
import gc
import io
import json
import queue
import re
import select
import selectors
import socket
import sys
import tempfile
import threading
import time
from functools import partial
from typing import Any

import httptools
from gunicorn import SERVER, SERVER_SOFTWARE
from gunicorn.util import http_date
from gunicorn.workers.gthread import TConn, ThreadWorker

from mock_remd.catalog.user_messages import DEFAULT_LANG, say
from mock_remd.soap.faults import SoapFault, render_fault
from mock_remd.soap.later import ANSWER_LATER, NeedsThread

#: seconds for the request line and headers, from the first byte (or from accept)
HEADER_TIMEOUT = 10.0
#: seconds for the body, from the end of the headers
BODY_TIMEOUT = 60.0
#: incomplete requests kept per client address (per worker process)
PER_CLIENT = 32
#: incomplete requests kept in all (per worker process)
PENDING_LIMIT = 512
#: bodies above this are written to a temporary file while they arrive
SPOOL_BYTES = 4 * 1024 * 1024
#: largest request line plus headers read while framing (gunicorn's own limits answer 414/431)
MAX_HEAD_BYTES = 64 * 1024
#: bytes read per readiness event (fairness between connections)
READ_CHUNK = 256 * 1024
#: largest request the event loop serves itself (see BufferingWorker._serve_inline); larger ones go to a thread
INLINE_BYTES = 1024 * 1024
#: seconds between the loop's liveness notes to the arbiter (and its looks at its parent)
BOOKKEEPING_SECONDS = 1.0

#: environ key: the connection's socket has TCP_NODELAY already (set once when it was accepted)
NODELAY_SET = "mock_remd.nodelay_set"
#: the request a thread serves (for answering gunicorn's refusals at the right endpoint)
_serving = threading.local()
_SOAP_PATH = re.compile(r"^/(port/emdr|[0-9a-f]{13})/?$")


class _Replay:
    """What gunicorn's parser reads from: the buffered request, then nothing.

    A connection is only handed over once its request is complete, so the parser never needs the
    socket for it; a broken request ends where its bytes end (gunicorn then answers the error).
    """

    def __init__(self, spool: Any) -> None:
        self.spool = spool

    def recv(self, size: int) -> bytes:
        return self.spool.read(size) if not self.spool.closed else b""

    def rest(self) -> bytes:
        """Bytes not read by the parser (a pipelined next request)."""
        data = self.spool.read()
        self.spool.close()
        return data


class RequestThreads:
    """The request threads of a worker: ``count`` threads taking calls from one queue.

    In place of gthread's ``ThreadPoolExecutor``, whose futures (a condition, a work item and a
    semaphore each) nothing reads here: :meth:`BufferingWorker._serve` hands the connection back itself.
    """

    def __init__(self, count: int, log: Any) -> None:
        self.log = log
        self._calls: queue.SimpleQueue[tuple[Any, tuple[Any, ...]] | None] = queue.SimpleQueue()
        self._threads = [threading.Thread(target=self._run, name=f"mock-remd-request-{i}", daemon=True)
                         for i in range(max(1, count))]
        for t in self._threads:
            t.start()

    def submit(self, fn: Any, *args: Any) -> None:
        """Call ``fn(*args)`` in the first free thread."""
        self._calls.put((fn, args))

    def shutdown(self, wait: bool = True) -> None:
        """Let each thread end after the calls queued before this."""
        for _ in self._threads:
            self._calls.put(None)
        if wait:
            for t in self._threads:
                t.join()

    def _run(self) -> None:
        while (call := self._calls.get()) is not None:
            fn, args = call
            try:
                fn(*args)
            except BaseException:  # the thread keeps serving (as a pool's worker does)
                self.log.exception("error in a request thread")


class _Done:
    """A finished request's outcome in the shape gthread's ``finish_request`` reads (a done future's)."""

    __slots__ = ("keep",)

    def __init__(self, keep: Any) -> None:
        self.keep = keep

    def cancelled(self) -> bool:
        return False

    def result(self) -> Any:
        return self.keep


class _Pending:
    """One request being read by the event loop (framed by httptools, llhttp's bindings)."""

    __slots__ = ("conn", "client", "started", "deadline", "parser", "spool", "size", "head_done", "continued",
                 "target", "url", "remaining", "method", "headers", "head_bytes", "head_chunks", "message_done")

    def __init__(self, conn: BufferedConn, now: float) -> None:
        self.conn = conn
        self.client = conn.client[0] if isinstance(conn.client, tuple) else str(conn.client)
        self.started = now
        self.deadline = now + HEADER_TIMEOUT
        #: the parser holds this object's callbacks (a reference cycle): dropped once the request is
        #: settled or dropped, so the request's buffers go at once, not at the next garbage collection
        self.parser: Any = httptools.HttpRequestParser(self)
        #: the bytes read: in memory, in a temporary file once past SPOOL_BYTES (see feed); closed by _Replay
        self.spool: Any = io.BytesIO()
        self.size = 0
        self.head_done = False
        self.message_done = False
        self.continued = False
        self.target = ""
        self.url = b""
        #: body bytes still to come when the body is framed by Content-Length (None: the parser frames it)
        self.remaining: int | None = None
        #: the request head (method, lower-case header names) and its size in bytes (for the fast path)
        self.method = b""
        self.headers: list[tuple[bytes, bytes]] = []
        self.head_bytes = 0
        #: what arrived before the head was complete (to find where the head ends)
        self.head_chunks: list[bytes] = []

    # ---- httptools callbacks -------------------------------------------------------------------------
    def on_url(self, url: bytes) -> None:
        if not self.head_done:
            self.url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        if not self.head_done:
            self.headers.append((name.lower(), value))

    def on_headers_complete(self) -> None:
        if not self.head_done:
            self.head_done = True
            self.method = self.parser.get_method()

    def on_message_complete(self) -> None:
        self.message_done = True

    # ---- framing ---------------------------------------------------------------------------------------
    def feed(self, data: bytes) -> str:
        """Take bytes from the socket; ``more``, ``complete`` or ``broken``."""
        if self.size == 0 and data:
            # the first bytes read (normally the whole request) are kept as they are, not copied: a
            # BytesIO made from them shares them until more is written
            self.spool = io.BytesIO(data)
            self.spool.seek(0, io.SEEK_END)
        else:
            self.spool.write(data)
        self.size += len(data)
        if self.size > SPOOL_BYTES and type(self.spool) is io.BytesIO:
            self.spool = _to_file(self.spool)
        if self.remaining is not None:
            # a Content-Length body is only counted once the head is read
            self.remaining -= len(data)
            return "complete" if self.remaining <= 0 else "more"
        head_was_done = self.head_done
        if not head_was_done:
            self.head_chunks.append(data)
        try:
            if data:
                self.parser.feed_data(data)
            error = None
        except httptools.HttpParserUpgrade:
            error = "upgrade"
        except httptools.HttpParserError:
            error = "broken"
        if self.head_done and not head_was_done:
            state = self._head_read()
            if state is not None:  # framed by Content-Length: whatever the parser met after the head is
                return state       # the next request's (gunicorn frames that one again)
        if self.message_done:
            return "complete"
        if error is not None:
            return "complete" if error == "upgrade" and self.head_done else "broken"
        if not self.head_done and self.size > MAX_HEAD_BYTES:
            return "broken"  # gunicorn's parser answers 431/414 from what was read
        return "more"

    def _head_read(self) -> str | None:
        """The head has just been read: note it; the state when Content-Length frames the body, else None."""
        self.deadline = time.monotonic() + BODY_TIMEOUT
        self.target = self.url.decode("latin-1").split("?", 1)[0]
        self.continued = any(k == b"expect" and v.lower() == b"100-continue" for k, v in self.headers)
        buffered = b"".join(self.head_chunks)
        self.head_chunks = []
        end = buffered.find(b"\r\n\r\n")  # llhttp requires CRLF line ends: the first empty line ends the head
        length = _content_length(self.headers)
        if length is None or end < 0:
            return None
        self.head_bytes = end + 4
        self.remaining = length - (self.size - self.head_bytes)
        return "complete" if self.remaining <= 0 else "more"

    def eof(self) -> None:
        """The client closed its side (nothing more can complete the request)."""


def _to_file(memory: io.BytesIO) -> Any:
    """``memory``'s bytes moved to a temporary file, at the same position (tempfile.SpooledTemporaryFile
    did this, at the cost of a Python call around every write, read and seek of every request)."""
    f = tempfile.TemporaryFile()  # noqa: SIM115 - closed by _Replay (or when the request is dropped)
    f.write(memory.getbuffer())
    f.seek(memory.tell())
    memory.close()
    return f


def _content_length(headers: list[tuple[bytes, bytes]]) -> int | None:
    """The body's length when Content-Length alone frames it (llhttp has checked the value), else None."""
    length = None
    for name, value in headers:
        if name == b"transfer-encoding":
            return None
        if name == b"content-length":
            if not value.strip().isdigit():
                return None
            length = int(value)
    return length


class BufferedConn(TConn):
    """A gthread connection whose parser reads the request the event loop buffered."""

    replay: _Replay | None = None
    #: the path of the request being served, as the framing read it ("" when its head was unreadable)
    target: str = ""
    #: the request when the fast path serves it (see :func:`fast_request`), else None
    fast: FastRequest | None = None
    #: bytes read beyond the request just served, taken by its thread (framed again by the loop)
    pipelined: bytes = b""

    def serve_from(self, spool: Any) -> None:
        spool.seek(0)
        self.replay = _Replay(spool)
        self.data_ready = True
        if self.parser is not None:  # a kept-alive connection: its parser reads the new request
            self.parser.unreader.sock = self.replay

    def unread(self) -> bytes:
        """What was read beyond the request just served (a pipelined next one); the replay ends."""
        rest = b""
        if self.parser is not None:
            rest = self.parser.unreader.take_buffered()
        if self.replay is not None:
            rest += self.replay.rest()
            self.replay = None
        return rest

    def init(self) -> None:
        super().init()
        if self.replay is not None and self.parser is not None:
            self.parser.unreader.sock = self.replay


if hasattr(select, "epoll"):
    #: one read event, then the kernel disarms the descriptor until it is armed again
    _READ_ONCE = select.EPOLLIN | select.EPOLLONESHOT

    class Poller(selectors.EpollSelector):
        """gthread's selector (epoll), where a client connection is watched for one read event at a time.

        gthread registers a kept-alive connection, and unregisters it when its next request arrives
        (two ``epoll_ctl`` per request, each a system call that lets the GIL go). :meth:`watch` arms it
        with ``EPOLLONESHOT`` instead: the event disarms it in the kernel and it stays in the map, so
        arming it again for the next request is one ``epoll_ctl`` (a modify). Listeners and gthread's own
        registrations stay level-triggered as before.
        """

        def __init__(self) -> None:
            super().__init__()
            #: descriptors watched one event at a time (armed or disarmed; a closed one until unregistered)
            self._once: set[int] = set()

        def watch(self, sock: socket.socket, callback: Any) -> None:
            """Call ``callback(sock)`` once ``sock`` is readable, then not again until watched again."""
            fd = sock.fileno()
            self._fd_to_key[fd] = selectors.SelectorKey(sock, fd, selectors.EVENT_READ, callback)
            ctl = self._selector
            first, second = (ctl.modify, ctl.register) if fd in self._once else (ctl.register, ctl.modify)
            self._once.add(fd)
            try:
                first(fd, _READ_ONCE)
            except (FileNotFoundError, FileExistsError):  # closed and its number reused / registered by gthread
                second(fd, _READ_ONCE)

        def once(self, sock: socket.socket) -> bool:
            """Whether ``sock`` was reported through :meth:`watch` (disarmed now: nothing to unregister)."""
            return sock.fileno() in self._once

        def register(self, fileobj: Any, events: int, data: Any = None) -> selectors.SelectorKey:
            fd = self._fileobj_lookup(fileobj)
            if fd in self._once:  # gthread registers a connection :meth:`watch` had: that watch gives way
                with contextlib.suppress(KeyError):
                    self.unregister(self._fd_to_key[fd].fileobj)
            return super().register(fileobj, events, data)

        def unregister(self, fileobj: Any) -> selectors.SelectorKey:
            key = super().unregister(fileobj)
            self._once.discard(key.fd)
            return key
else:  # no epoll: level-triggered as gthread's own (a readable connection is unregistered, see on_client_socket_readable)
    class Poller(selectors.DefaultSelector):  # type: ignore[no-redef]
        """gthread's selector; :meth:`watch` registers (or re-registers) for one read event's callback."""

        def watch(self, sock: socket.socket, callback: Any) -> None:
            """Call ``callback(sock)`` once ``sock`` is readable (registered until unregistered)."""
            try:
                self.register(sock, selectors.EVENT_READ, callback)
            except KeyError:
                self.modify(sock, selectors.EVENT_READ, callback)

        def once(self, sock: socket.socket) -> bool:
            """Never: every registration here is level-triggered."""
            return False


class BufferingWorker(ThreadWorker):
    """gthread with requests read whole by the event loop (see the module docstring)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.reading: dict[BufferedConn, _Pending] = {}
        self.by_client: dict[str, collections.OrderedDict[BufferedConn, None]] = {}
        #: gunicorn's settings the fast path reads on every request (each Config look-up costs µs)
        self.limits = FastLimits.of(self.cfg)
        #: (second, Date header value) of the last fast-path answer: formatted once a second
        self._date: tuple[int, str] = (0, "")
        #: request threads put kept-alive connections back (see _serve) while the loop may be stopping
        self._keepalive_lock = threading.Lock()
        #: calls the loop makes after the events of one wait (see run_soon)
        self._soon: list[Any] = []

    def init_process(self) -> None:
        _return_large_blocks_to_the_os()
        super().init_process()

    def run(self) -> None:
        # The application is loaded: its ~80,000 objects (modules, catalogues, the store's tables) live
        # as long as the process. Out of the collector's sight, a full collection no longer walks them
        # all (50 ms, once in a while, in the middle of some answer).
        gc.freeze()
        # gthread made a DefaultSelector in init_process; nothing is registered with it before run()
        if not self.poller.get_map():
            self.poller.close()
            self.poller = Poller()
        super().run()

    def wait_for_and_dispatch_events(self, timeout: float) -> None:
        try:
            super().wait_for_and_dispatch_events(timeout)
        finally:
            while self._soon:
                calls, self._soon = self._soon, []
                for call in calls:
                    try:
                        call()
                    except Exception:
                        self.log.exception("error in a call of the event loop")

    def run_soon(self, call: Any) -> None:
        """The event loop: call ``call()`` once the events of this wait are handled (the writes of all the
        requests read at once are committed together, then answered); once however often it is handed over."""
        if call not in self._soon:
            self._soon.append(call)

    # ---- the loop's bookkeeping, at most once a second ------------------------------------------
    # gthread tells the arbiter it is alive (a utime of its temporary file) and asks for its parent
    # (getppid) at every turn of the loop, that is for nearly every request under load: two system
    # calls, each a chance for a request thread to take the GIL from the loop. The arbiter's timeout is
    # 120 s, and a parent gone is seen within a second all the same.
    _notified = float("-inf")
    _parent_checked = float("-inf")

    def notify(self) -> None:
        now = time.monotonic()
        if now - self._notified >= BOOKKEEPING_SECONDS:
            self._notified = now
            super().notify()

    def is_parent_alive(self) -> bool:
        now = time.monotonic()
        if now - self._parent_checked < BOOKKEEPING_SECONDS:
            return True
        self._parent_checked = now
        return super().is_parent_alive()

    # ---- accepting and reading -------------------------------------------------------------------
    def accept(self, listener: socket.socket) -> None:
        try:
            client_sock, client_addr = listener.accept()
        except OSError as e:
            if e.errno not in (errno.EAGAIN, errno.ECONNABORTED, errno.EWOULDBLOCK):
                raise
            return
        self.nr_conns += 1
        with contextlib.suppress(OSError):  # once per connection (the app would set it at every request)
            client_sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        conn = BufferedConn(self.cfg, client_sock, client_addr, listener.getsockname())
        self._read_request(conn, b"")

    def on_client_socket_readable(self, conn: BufferedConn, client: socket.socket) -> None:
        if not self.poller.once(client):  # (a watched one was disarmed by its event: it stays in the map)
            self.poller.unregister(client)
        self.keepalived_conns.remove(conn)
        self._read_request(conn, b"")

    def _read_request(self, conn: BufferedConn, first: bytes) -> None:
        pending = _Pending(conn, time.monotonic())
        self._admit(pending)
        state = pending.feed(first) if first else "more"
        if state == "more":
            state = self._drain(pending)
        if state == "more":
            if conn.sock.getblocking():  # (getblocking asks Python's socket object, not the kernel)
                conn.sock.setblocking(False)
            self.poller.watch(conn.sock, partial(self._on_readable, pending))
            return
        self._settle(pending, state)

    def _on_readable(self, pending: _Pending, sock: Any) -> None:
        state = self._drain(pending)
        once = self.poller.once(sock)
        if state == "more":
            if once:  # disarmed by this event: armed again for the rest
                self.poller.watch(sock, partial(self._on_readable, pending))
            return
        if not once:  # level-triggered (no epoll): registered until now
            with contextlib.suppress(KeyError, ValueError, OSError):
                self.poller.unregister(sock)
        self._settle(pending, state)

    def _close(self, conn: BufferedConn) -> None:
        """Close a connection of this loop (its watch, armed or not, goes first)."""
        with contextlib.suppress(KeyError, ValueError, OSError):
            self.poller.unregister(conn.sock)
        self.nr_conns -= 1
        conn.close()

    def _drain(self, pending: _Pending) -> str:
        """Read what the socket has (non-blocking); the request's state afterwards."""
        sock = pending.conn.sock
        for _ in range(8):
            try:
                data = sock.recv(READ_CHUNK)
            except (BlockingIOError, InterruptedError):
                return "more"
            except OSError:
                return "gone"
            if not data:
                pending.eof()
                return "broken" if pending.size else "gone"
            state = pending.feed(data)
            if state != "more":
                return state
            if pending.head_done and pending.continued:
                pending.continued = False
                with contextlib.suppress(OSError):
                    sock.send(b"HTTP/1.1 100 Continue\r\n\r\n")
        return "more"

    def _settle(self, pending: _Pending, state: str) -> None:
        """The request is complete (or broken): to a request thread; or the client is gone: close."""
        self._forget(pending)
        conn = pending.conn
        if state == "gone" or (state == "broken" and pending.head_done):
            if state == "broken":  # the body's framing is broken (a bad chunk size): the client's error
                with contextlib.suppress(OSError):
                    conn.sock.setblocking(True)
                    conn.sock.sendall(refusal(400, pending.target))
            pending.spool.close()
            pending.parser = None
            self._close(conn)
            return
        conn.target = pending.target
        conn.fast = fast_request(pending, self.limits) if state == "complete" else None
        if conn.fast is None:
            conn.sock.setblocking(True)  # gunicorn's handling writes with sendall on a blocking socket
        # the fast path keeps it non-blocking (see _send): each setblocking is an ioctl that lets the
        # GIL go, and a kept-alive connection's socket went blocking and back for every request
        pending.parser = None
        conn.serve_from(pending.spool)
        if conn.fast is not None and pending.size <= INLINE_BYTES and self._serve_inline(conn):
            return
        self.enqueue_req(conn)

    def _serve_inline(self, conn: BufferedConn) -> bool:
        """Serve a fast-path request in the event loop itself when the application can take its answer
        for later without waiting (a plain registration: the write is queued, or its batch committed
        here, and the answer leaves by :meth:`answer_later`): no request thread is woken for it. False
        when the application says the request needs a thread (it raised :class:`NeedsThread` before
        doing anything): the request is as it was, for :meth:`enqueue_req`."""
        fast = conn.fast
        assert fast is not None and conn.replay is not None
        if self.nr + 1 >= self.max_requests or not self.alive:
            return False
        try:
            keep = self._handle_fast(conn, fast, inline=True)
        except Exception:  # (the loop must go on: the connection closes, as a request thread's would)
            self.log.exception("error handling a request")
            keep = False
        if keep is _AGAIN:
            self.nr -= 1
            conn.replay.spool.seek(0)
            return False
        conn.fast = None
        if keep is not _LATER:  # answered now (an error answered by the worker, a client gone)
            self._hand_back(conn, keep)
        return True

    # ---- limits ----------------------------------------------------------------------------------
    def _admit(self, pending: _Pending) -> None:
        self.reading[pending.conn] = pending
        mine = self.by_client.setdefault(pending.client, collections.OrderedDict())
        mine[pending.conn] = None
        while len(mine) > PER_CLIENT:
            self._drop(self.reading[next(iter(mine))])
        while len(self.reading) > PENDING_LIMIT:
            self._drop(next(iter(self.reading.values())))

    def _forget(self, pending: _Pending) -> None:
        self.reading.pop(pending.conn, None)
        mine = self.by_client.get(pending.client)
        if mine is not None:
            mine.pop(pending.conn, None)
            if not mine:
                del self.by_client[pending.client]

    def _drop(self, pending: _Pending) -> None:
        """Close an incomplete request (too slow, or pushed out by newer ones)."""
        self._forget(pending)
        pending.spool.close()
        pending.parser = None
        self._close(pending.conn)

    def murder_pending(self) -> None:
        super().murder_pending()
        now = time.monotonic()
        for pending in [p for p in self.reading.values() if p.deadline <= now or not self.alive]:
            self._drop(pending)

    # ---- after a request -------------------------------------------------------------------------
    def get_thread_pool(self) -> RequestThreads:
        """gunicorn's hook for the request threads: ours, without a future per request."""
        return RequestThreads(self.cfg.threads, self.log)

    def enqueue_req(self, conn: BufferedConn) -> None:
        """To a request thread, which also puts a kept-alive connection back on the poller itself."""
        self.tpool.submit(self._serve, conn)

    def _serve(self, conn: BufferedConn) -> None:
        """A request thread: serve ``conn``'s request, then hand the connection back.

        The common case, a connection kept alive with nothing read beyond its request, goes back on
        the poller from here: gthread's way (a future's callback queues ``finish_request`` for the
        loop and wakes it through a pipe) cost the loop a wake-up, a pipe write and read and a thread
        switch for every request. Anything else (closing, a pipelined next request, a stopping
        worker) is left to the loop's :meth:`finish_request` as before.
        """
        try:
            keep = self.handle(conn)
        except BaseException:  # handle() answers its own errors: only the connection is closed here
            self.method_queue.defer(self.finish_request, conn, _Done(False))
            raise
        if keep is _LATER:  # the thread that commits the request's write answers and hands it back
            return
        self._hand_back(conn, keep)

    def _hand_back(self, conn: BufferedConn, keep: Any) -> None:
        """After the answer: a kept-alive connection with nothing more read back on the poller; else
        to the loop's :meth:`finish_request`."""
        if keep is True and self.alive:
            rest = conn.unread()
            if not rest and conn.parser is not None:
                with self._keepalive_lock:
                    if self.alive:
                        if conn.sock.getblocking():
                            conn.sock.setblocking(False)
                        conn.set_timeout()
                        self.keepalived_conns.append(conn)  # before the poller can report it readable
                        self.poller.watch(conn.sock, partial(self.on_client_socket_readable, conn))
                        return
            conn.pipelined = rest
        self.method_queue.defer(self.finish_request, conn, _Done(keep))

    def _cap_keepalive(self, deadline: float) -> None:
        with self._keepalive_lock:  # request threads add to the kept-alive connections
            super()._cap_keepalive(deadline)

    def finish_request(self, conn: BufferedConn, fs: Any) -> None:
        # a pipelined next request read along with this one is framed again before it is served
        rest = conn.pipelined + conn.unread()
        conn.pipelined = b""
        keep = not fs.cancelled() and fs.result()
        if rest and keep and self.alive:
            self._read_request(conn, rest)
            return
        if not keep:  # gthread closes it: a watch it still has (disarmed) goes first
            with contextlib.suppress(KeyError, ValueError, OSError):
                self.poller.unregister(conn.sock)
        super().finish_request(conn, fs)

    # ---- errors gunicorn answers itself ----------------------------------------------------------
    def handle(self, conn: BufferedConn) -> Any:
        _serving.target = conn.target
        fast, conn.fast = conn.fast, None
        if fast is not None and self.alive:
            return self._handle_fast(conn, fast)
        return super().handle(conn)

    def _handle_fast(self, conn: BufferedConn, fast: FastRequest, inline: bool = False) -> Any:
        """Serve a plain SOAP POST from the head the event loop already read: the WSGI environ is
        made from it and the answer goes out in one send (gunicorn would parse the head again and
        send the headers and the body apart: a fifth of a registration's CPU). Keep-alive as gunicorn.
        Whether the connection is kept alive, or :data:`_LATER` when the application answers later
        (:meth:`answer_later`); ``inline``: called by the event loop (:meth:`_serve_inline`), :data:`_AGAIN`
        when the application needs a thread for the request."""
        conn.init()  # gunicorn's keep-alive bookkeeping reads the connection's parser
        if conn.replay is None:
            return False
        spool = conn.replay.spool
        head = spool.read(fast.head_bytes)  # read apart: the body is copied once, not twice (a 51 KB memcpy)
        body = spool.read(fast.end - fast.head_bytes)
        if len(head) + len(body) < fast.end:
            return False
        environ = fast.environ(conn, body, self.limits)
        self.nr += 1
        close = (self.nr >= self.max_requests or not self.limits.keepalive
                 or len(self.keepalived_conns) >= self.max_keepalived)
        if self.nr >= self.max_requests and self.alive:
            self.log.info("Autorestarting worker after current request.")
            self.alive = False
        started: list[Any] = []

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            started[:] = [status, headers]
            return None

        later = _Later(self, conn, fast.path, close)
        later.inline = inline
        environ[ANSWER_LATER] = later
        try:
            try:
                result = self.wsgi(environ, start_response)
            except NeedsThread:
                if inline:
                    return _AGAIN
                raise
            if later.taken:  # answered by the thread that commits the request's write (maybe already):
                return _LATER  # the connection is not this thread's any more
            try:
                body = b"".join(result)
            finally:
                if hasattr(result, "close"):
                    result.close()
            status, headers = started
            data, close = self._response(status, headers, body, close)
            _send(conn.sock, data)
        except OSError as exc:  # the client went away (or a scenario dropped the connection)
            if exc.errno not in (errno.EPIPE, errno.ECONNRESET, errno.ENOTCONN, errno.EBADF):
                self.log.exception("Socket error processing request.")
            return False
        except Exception:
            self.log.exception("error handling a request")
            with contextlib.suppress(OSError):
                conn.sock.sendall(refusal(500, fast.path))
            return False
        return not close

    def _response(self, status: str, headers: list[tuple[str, str]], body: bytes, close: bool) -> tuple[bytes, bool]:
        """The whole HTTP answer, and whether the connection closes after it."""
        names = {k.lower(): v for k, v in headers}
        if "content-length" not in names or names.get("connection", "").lower() == "close":
            close = True
        now = int(time.time())
        if self._date[0] != now:
            self._date = (now, http_date(now))
        head = "".join([f"HTTP/1.1 {status}\r\nServer: {SERVER}\r\nDate: {self._date[1]}\r\n"
                        f"Connection: {'close' if close else 'keep-alive'}\r\n",
                        *(f"{k}: {v}\r\n" for k, v in headers if k.lower() != "connection"), "\r\n"])
        return head.encode("latin-1") + body, close

    def answer_later(self, later: _Later, status: str, headers: list[tuple[str, str]], body: bytes) -> None:
        """Send an answer the application gave after its call returned (in the thread that committed
        the request's write, which must not wait): as :meth:`_handle_fast` would have, then hand the
        connection back as :meth:`_serve` does. What the socket cannot take at once is sent by a request thread."""
        conn = later.conn
        try:
            data, close = self._response(status, headers, body, later.close)
            sock = conn.sock
            if sock.getblocking():
                sock.setblocking(False)
            try:
                sent = sock.send(data)
            except BlockingIOError:
                sent = 0
            if sent < len(data):
                self.tpool.submit(self._send_rest, conn, later.path, memoryview(data)[sent:], not close)
                return
            keep = not close
        except OSError as exc:  # the client went away
            if exc.errno not in (errno.EPIPE, errno.ECONNRESET, errno.ENOTCONN, errno.EBADF):
                self.log.exception("Socket error processing request.")
            keep = False
        except Exception:
            self.log.exception("error handling a request")
            with contextlib.suppress(OSError):
                conn.sock.sendall(refusal(500, later.path))
            keep = False
        self._hand_back(conn, keep)

    def _send_rest(self, conn: BufferedConn, path: str, rest: memoryview, keep: bool) -> None:
        """A request thread: the rest of an answer :meth:`answer_later` could not send at once."""
        try:
            _send(conn.sock, bytes(rest))
        except OSError as exc:
            if exc.errno not in (errno.EPIPE, errno.ECONNRESET, errno.ENOTCONN, errno.EBADF):
                self.log.exception("Socket error processing request.")
            keep = False
        self._hand_back(conn, keep)

    def handle_error(self, req: Any, client: Any, addr: Any, exc: BaseException) -> None:
        """gunicorn's parser refused the request: answer as the endpoint would (SOAP Fault or JSON)."""
        status = _status_of(exc)
        if status >= 500:
            self.log.exception("error handling a request")
        else:
            self.log.warning("refused request from %s: %s (%s)", (addr or ("",))[0], status, type(exc).__name__)
        with contextlib.suppress(OSError):
            path = getattr(req, "path", None) if req is not None else None
            client.sendall(refusal(status, path or getattr(_serving, "target", "") or None))


#: what :meth:`BufferingWorker._handle_fast` returns when the answer is left to the thread that commits
_LATER = object()
#: … and when, called by the event loop, the application needs a thread for the request
_AGAIN = object()


class _Later:
    """The worker's :class:`~mock_remd.soap.later.LaterAnswer` for one fast-path request."""

    __slots__ = ("worker", "conn", "path", "close", "taken", "inline")

    def __init__(self, worker: BufferingWorker, conn: BufferedConn, path: str, close: bool) -> None:
        self.worker = worker
        self.conn = conn
        self.path = path
        #: the connection closes after the answer (decided when the request was taken)
        self.close = close
        self.taken = False
        #: called by the event loop (see :meth:`BufferingWorker._serve_inline`)
        self.inline = False

    def answer(self, status: str, headers: list[tuple[str, str]], body: bytes) -> None:
        """Send the answer and hand the connection back (see :meth:`BufferingWorker.answer_later`)."""
        self.worker.answer_later(self, status, headers, body)

    def fail(self) -> None:
        """The application could not answer: a 500 refusal, the connection closes (as in :meth:`BufferingWorker._handle_fast`)."""
        self.worker.log.exception("error handling a request")
        with contextlib.suppress(OSError):
            self.conn.sock.sendall(refusal(500, self.path))
        self.worker._hand_back(self.conn, False)  # noqa: SLF001 - the worker's own helper

    def soon(self, call: Any) -> None:
        """Run ``call()`` in the event loop after the events it handles now (see :meth:`BufferingWorker.run_soon`)."""
        self.worker.run_soon(call)

    def elsewhere(self, call: Any) -> None:
        """Run ``call()`` in a request thread."""
        self.worker.tpool.submit(call)


@dataclasses.dataclass(frozen=True)
class FastLimits:
    """gunicorn's settings the fast path obeys, read once."""

    request_line: int
    request_fields: int
    request_field_size: int
    keepalive: int
    multiprocess: bool

    @classmethod
    def of(cls, cfg: Any) -> FastLimits:
        """From gunicorn's configuration."""
        return cls(request_line=cfg.limit_request_line, request_fields=cfg.limit_request_fields,
                   request_field_size=cfg.limit_request_field_size, keepalive=cfg.keepalive,
                   multiprocess=cfg.workers > 1)


@dataclasses.dataclass(frozen=True)
class FastRequest:
    """A request the fast path serves: a POST to the SOAP endpoint framed by Content-Length alone."""

    path: str
    query: str
    headers: list[tuple[bytes, bytes]]
    head_bytes: int
    #: where the request ends in the buffered bytes (a pipelined next one may follow)
    end: int

    def environ(self, conn: BufferedConn, body: bytes, limits: FastLimits) -> dict[str, Any]:
        """The WSGI environ gunicorn would make for this request (with ``body``)."""
        server = conn.server if isinstance(conn.server, tuple) else ("", "")
        client = conn.client if isinstance(conn.client, tuple) else (str(conn.client), "")
        env: dict[str, Any] = {
            "REQUEST_METHOD": "POST", "SCRIPT_NAME": "", "PATH_INFO": self.path, "QUERY_STRING": self.query,
            "RAW_URI": self.path + ("?" + self.query if self.query else ""), "SERVER_PROTOCOL": "HTTP/1.1",
            "SERVER_NAME": str(server[0]), "SERVER_PORT": str(server[1]), "REMOTE_ADDR": str(client[0]),
            "REMOTE_PORT": str(client[1]), "SERVER_SOFTWARE": SERVER_SOFTWARE,
            "wsgi.version": (1, 0), "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(body),
            "wsgi.errors": sys.stderr, "wsgi.multithread": True, "wsgi.multiprocess": limits.multiprocess,
            "wsgi.run_once": False, "wsgi.input_terminated": True, "gunicorn.socket": conn.sock,
            NODELAY_SET: True,
        }
        for name, value in self.headers:
            key = name.decode("latin-1").upper().replace("-", "_")
            text = value.decode("latin-1")
            if key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
                env[key] = text
                continue
            key = "HTTP_" + key
            env[key] = f"{env[key]},{text}" if key in env else text
        return env


def fast_request(pending: _Pending, limits: FastLimits) -> FastRequest | None:
    """The request as :class:`FastRequest` when nothing in it needs gunicorn's own handling, else None.

    Only a POST to the SOAP endpoint over HTTP/1.1 with Content-Length framing, a plain path, header
    names without underscores, no Expect/Upgrade/forwarding headers, no Connection header other than
    keep-alive, and within gunicorn's size limits; anything else (and every refusal) goes through gunicorn's parser as before.
    """
    if (pending.remaining is None or pending.method != b"POST" or pending.parser.get_http_version() != "1.1"
            or pending.size > SPOOL_BYTES):
        return None
    target = pending.url.decode("latin-1")
    path, _, query = target.partition("?")
    if "%" in path or not _SOAP_PATH.match(path) or len(target) + 16 > limits.request_line:
        return None
    if len(pending.headers) > limits.request_fields:
        return None
    length = 0
    for name, value in pending.headers:
        if name == b"connection" and value.lower() == b"keep-alive":
            continue
        if name in _NOT_FAST or name.startswith(b"x-forwarded") or b"_" in name:
            return None
        if len(name) + len(value) + 4 > limits.request_field_size:
            return None
        if name == b"content-length":
            length = int(value)
    return FastRequest(path=path, query=query, headers=pending.headers, head_bytes=pending.head_bytes,
                       end=pending.head_bytes + length)


#: headers that need gunicorn's handling (connection management, forwarding, body framing)
_NOT_FAST = frozenset({b"connection", b"expect", b"upgrade", b"transfer-encoding", b"forwarded", b"http2-settings",
                       b"proxy-connection", b"te", b"trailer", b"keep-alive"})


def _send(sock: socket.socket, data: bytes) -> None:
    """All of ``data`` on ``sock``, which may be non-blocking (the fast path leaves it so): one send
    normally takes an answer whole; what the socket's buffer cannot take yet is sent blocking."""
    sent = 0
    if not sock.getblocking():
        try:
            sent = sock.send(data)
        except BlockingIOError:
            sent = 0
        if sent >= len(data):
            return
        sock.setblocking(True)
    sock.sendall(memoryview(data)[sent:] if sent else data)


def refusal(status: int, path: str | None) -> bytes:
    """A whole HTTP answer refusing a request: a SOAP 1.1 Fault on the SOAP endpoint (or when the path
    is unknown), a JSON error elsewhere; the connection closes after it."""
    refused = _REFUSALS.get(status, _REFUSALS[400])
    if path is None or _SOAP_PATH.match(path):
        _, ctype, body = render_fault(SoapFault.of(refused), "1.1")
    else:
        ctype = "application/json; charset=utf-8"
        body = json.dumps({"error": say(DEFAULT_LANG, f"http.{refused}"), "detail": None}, ensure_ascii=False).encode()
    head = (f"HTTP/1.1 {status} {_REASONS.get(status, 'Bad Request')}\r\nConnection: close\r\n"
            f"Content-Type: {ctype}\r\nContent-Length: {len(body)}\r\n\r\n")
    return head.encode("latin-1") + body


_REASONS = {400: "Bad Request", 414: "URI Too Long", 431: "Request Header Fields Too Large",
            500: "Internal Server Error", 501: "Not Implemented"}
#: HTTP status -> the refusal's key: a Fault of catalog/faults.py and, with ``http.``, an admin sentence of
#: catalog/user_messages.py (the request was not read, so its Accept-Language is not known: Russian)
_REFUSALS = {400: "http_malformed", 500: "http_front_failed", 414: "http_line_too_long",
             431: "http_headers_too_large", 501: "http_transfer_coding"}


def _status_of(exc: BaseException) -> int:
    from gunicorn.http import errors as e

    if isinstance(exc, e.LimitRequestLine):
        return 414
    if isinstance(exc, e.LimitRequestHeaders):
        return 431
    if isinstance(exc, e.UnsupportedTransferCoding):
        return 501
    if isinstance(exc, e.ParseException | e.NoMoreData | ValueError):
        return 400
    return 500


def _return_large_blocks_to_the_os() -> None:
    """Large allocations (request bodies, decoded documents) by ``mmap``, so freeing them gives the
    memory back to the system instead of growing the heap (60 MB requests left ~250 MB per worker).

    glibc only; elsewhere nothing changes.
    """
    name = ctypes.util.find_library("c")
    if not name:
        return
    try:
        libc = ctypes.CDLL(name)
        m_mmap_threshold = -3
        libc.mallopt(m_mmap_threshold, 1024 * 1024)
    except (OSError, AttributeError):
        pass
