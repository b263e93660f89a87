"""Answering a SOAP request after the WSGI call returned: the key the HTTP server offers it under.

Kept apart from :mod:`mock_remd.soap.app` so that the server's worker class can name the key without
loading the application (gunicorn's master imports the worker class and nothing of the application).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

#: environ key: a :class:`LaterAnswer` of the HTTP server, when it can take an answer after the call returns
ANSWER_LATER = "mock_remd.answer_later"


class NeedsThread(Exception):  # noqa: N818 - a signal, not an error
    """Raised out of the WSGI call made with :attr:`LaterAnswer.inline`, before the application did
    anything: the request could wait (or answer now), so the server calls the application again for it
    in a thread that may wait."""


class LaterAnswer(Protocol):
    """What an HTTP server offers for answering a request after the WSGI call has returned.

    The application sets :attr:`taken` before returning when it will answer through :meth:`answer`
    (the server then leaves the connection alone: :meth:`answer` may even have run already).
    """

    taken: bool
    #: the call is made by the server's event loop, which must not wait: the application either takes
    #: the answer for later without waiting, or raises :class:`NeedsThread` before doing anything
    inline: bool

    def answer(self, status: str, headers: list[tuple[str, str]], body: bytes) -> None:
        """Send the answer (as ``start_response`` and the body would) and go on with the connection."""

    def fail(self) -> None:
        """No answer could be made: the server answers its own error, as when the call raises."""

    def soon(self, call: Callable[[], None]) -> None:
        """With :attr:`inline`: run ``call()`` in the event loop once it has handled the requests it read
        at once (before it waits again; a call handed over several times runs once)."""

    def elsewhere(self, call: Callable[[], None]) -> None:
        """Run ``call()`` in a thread of the server that may wait (for a lock, a write)."""
