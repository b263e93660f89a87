"""The admin token for the dashboard: a login form stores it in an HttpOnly, SameSite=Strict cookie."""

from __future__ import annotations

import hmac

from flask import Request

TOKEN_COOKIE = "mock_remd_token"


def token_matches(given: str, token: str) -> bool:
    """Constant-time comparison of a presented token with the configured one."""
    return bool(given) and hmac.compare_digest(given.encode(), token.encode())


def cookie_token(req: Request) -> str:
    """The token the login form stored, or ``""``."""
    return (req.cookies.get(TOKEN_COOKIE) or "").strip()


def request_authorised(req: Request, token: str) -> bool:
    """True when no token is configured, or the request carries it (cookie or Bearer header)."""
    if not token:
        return True
    header = req.headers.get("Authorization", "")
    bearer = header[7:].strip() if header.lower().startswith("bearer ") else ""
    return token_matches(bearer, token) or token_matches(cookie_token(req), token)
