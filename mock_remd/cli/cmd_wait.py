"""``mock-remd wait URL``: block until ``URL/ready`` answers 200 (for CI scripts)."""

from __future__ import annotations

import argparse
import sys
import time

import requests

from mock_remd.catalog.user_messages import network_failure, say, where_of
from mock_remd.cli.common import lang_of


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("wait", help="wait until a mock-remd server is ready",
                       description="Exit 0 once URL/ready answers 200; 1 on timeout; 2 for a malformed URL.")
    p.add_argument("url", help="base URL of the server, e.g. http://127.0.0.1:8080")
    p.add_argument("--timeout", type=float, default=60.0, help="seconds to wait (default 60)")
    p.add_argument("--quiet", action="store_true", help="print nothing")
    p.set_defaults(func=run)


def wait_ready(url: str, timeout: float, *, interval: float = 0.25, lang: str = "ru") -> tuple[bool, str]:
    """Poll ``url/ready`` until 200 or ``timeout``; returns (ready, last observation as one sentence)."""
    deadline = time.monotonic() + timeout
    last = "no answer yet"
    ready_url = url.rstrip("/") + "/ready"
    http = requests.Session()
    http.trust_env = False  # a CI proxy must not stand between the job and its service container
    while True:
        try:
            resp = http.get(ready_url, timeout=min(5.0, max(timeout, 0.5)))
            if resp.status_code == 200:
                return True, "ready"
            last = say(lang, "net.http", where=where_of(ready_url), status=resp.status_code)
        except requests.RequestException as exc:
            last = network_failure(lang, exc, ready_url)
        if time.monotonic() >= deadline:
            return False, last
        time.sleep(interval)  # polling an external server: nothing to wait on but time


def run(args: argparse.Namespace) -> int:
    lang = lang_of(args)
    if not args.url.startswith(("http://", "https://")):
        print(f"mock-remd wait: {say(lang, 'wait.bad_url', url=args.url)}", file=sys.stderr)
        return 2
    ok, last = wait_ready(args.url, args.timeout, lang=lang)
    if not args.quiet:
        if ok:
            print(say(lang, "wait.ready", url=args.url))
        else:
            print(f"mock-remd wait: {say(lang, 'wait.not_ready', url=args.url, seconds=f'{args.timeout:g}', last=last)}",
                  file=sys.stderr)
    return 0 if ok else 1
