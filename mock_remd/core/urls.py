"""Addresses the registry calls out to (callback_url, document_url): absolute http(s) only.

Checked where a system is defined (config file, admin API, dashboard), so the sender and the
``getDocumentFile`` pull never meet a ``file://`` URL, a host-less one, credentials or header-splitting
control characters. Outgoing calls never follow redirects (a 3xx is the MIS's answer, reported as such).
"""

from __future__ import annotations

from urllib.parse import urlsplit

SCHEMES = ("http", "https")


def url_problem(url: str) -> str | None:
    """Why ``url`` cannot be an outgoing address (one Russian sentence), or None when it can.

    Accepted: ``http``/``https`` in any case, a host, an optional port 1–65535, no user or password,
    no control characters or spaces.
    """
    if any(ord(ch) < 0x21 or ord(ch) == 0x7F for ch in url):
        return "адрес содержит пробелы или управляющие символы"
    try:
        parts = urlsplit(url)
    except ValueError:
        return "адрес не разбирается как URL"
    if parts.scheme.lower() not in SCHEMES:
        return "ожидается адрес http:// или https://"
    if parts.username is not None or parts.password is not None:
        return "адрес не должен содержать имя пользователя или пароль"
    if not parts.hostname:
        return "в адресе нет имени хоста"
    try:
        port = parts.port
    except ValueError:
        return "порт адреса должен быть числом от 1 до 65535"
    if port == 0:
        return "порт адреса должен быть числом от 1 до 65535"
    return None
