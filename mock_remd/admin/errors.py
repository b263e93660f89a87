"""JSON errors of the admin API: ``{"error": "...", "detail": ...}`` with a 4xx (or 5xx) status.

Messages are catalogue texts (:class:`~mock_remd.catalog.user_messages.Text`) rendered in the language
the client asks for with ``Accept-Language`` (Russian by default).
"""

from __future__ import annotations

from typing import Any

from flask import has_request_context, jsonify, request

from mock_remd.catalog.user_messages import DEFAULT_LANG, Text, pick_lang, render


class ApiError(Exception):
    """An error answer; raised anywhere in a view. ``error`` (and any message in ``detail``) is a
    catalogue :class:`Text`, rendered in the client's language when the answer is made."""

    def __init__(self, status: int, error: Text | str, detail: Any = None) -> None:
        super().__init__(render(DEFAULT_LANG, error))  # the log's text; the answer renders ``error`` itself
        self.status = status
        self.error = error
        self.detail = detail


def request_lang() -> str:
    """The language of messages for this request: English when Accept-Language prefers it, else Russian."""
    if not has_request_context():
        return DEFAULT_LANG
    return pick_lang(request.headers.get("Accept-Language"))


def json_error(status: int, error: Text | str, detail: Any = None):
    """A Flask response for an error, its messages in the client's language."""
    lang = request_lang()
    resp = jsonify({"error": render(lang, error), "detail": render(lang, detail)})
    resp.status_code = status
    return resp
