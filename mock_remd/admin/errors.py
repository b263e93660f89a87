"""JSON errors of the admin API: ``{"error": "...", "detail": ...}`` with a 4xx (or 5xx) status."""

from __future__ import annotations

from typing import Any

from flask import jsonify


class ApiError(Exception):
    """An error answer; raised anywhere in a view."""

    def __init__(self, status: int, error: str, detail: Any = None) -> None:
        super().__init__(error)
        self.status = status
        self.error = error
        self.detail = detail


def json_error(status: int, error: str, detail: Any = None):
    """A Flask response for an error."""
    resp = jsonify({"error": error, "detail": detail})
    resp.status_code = status
    return resp
