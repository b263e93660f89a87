"""Addresses the registry calls out to (callback_url, document_url): absolute http(s) only.

Checked where a system is defined (config file, admin API, dashboard), so the sender and the
``getDocumentFile`` pull never meet a ``file://`` URL, a host-less one, credentials or header-splitting
control characters. Outgoing calls never follow redirects (a 3xx is the MIS's answer, reported as such).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from mock_remd.catalog.user_messages import Text, text

SCHEMES = ("http", "https")


def url_problem(url: str) -> Text | None:
    """Why ``url`` cannot be an outgoing address (a catalogue :class:`Text`), or None when it can.

    Accepted: ``http``/``https`` in any case, a host, an optional port 1–65535, no user or password,
    no control characters or spaces.
    """
    if any(ord(ch) < 0x21 or ord(ch) == 0x7F for ch in url):
        return text("url.spaces")
    try:
        parts = urlsplit(url)
    except ValueError:
        return text("url.unparsable")
    if parts.scheme.lower() not in SCHEMES:
        return text("url.scheme")
    if parts.username is not None or parts.password is not None:
        return text("url.credentials")
    if not parts.hostname:
        return text("url.no_host")
    try:
        port = parts.port
    except ValueError:
        return text("url.port")
    if port == 0:
        return text("url.port")
    return None
