"""``python -m mock_remd.healthcheck [URL]``: exit 0 when the server's ``/ready`` answers 200, else 1.

The container HEALTHCHECK and CI ``--health-cmd`` (no curl in slim images). Without URL it checks
``http://127.0.0.1:$MOCK_REMD_PORT`` (8080), or ``MOCK_REMD_HOST`` when that is a concrete address.
Only the standard library is imported, so a check costs a few milliseconds of start-up.
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request


def default_url(environ: dict[str, str] | None = None) -> str:
    """The local base URL the server listens on, from ``MOCK_REMD_HOST``/``MOCK_REMD_PORT``."""
    env = os.environ if environ is None else environ
    host = env.get("MOCK_REMD_HOST", "").strip()
    if host in ("", "0.0.0.0", "::", "[::]"):
        host = "127.0.0.1"
    return f"http://{host}:{env.get('MOCK_REMD_PORT', '8080').strip() or '8080'}"


def check(url: str, timeout: float = 3.0) -> tuple[bool, str]:
    """(ready, what was seen) for ``url/ready``."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url.rstrip("/") + "/ready", timeout=timeout) as resp:
            return resp.status == 200, f"HTTP {resp.status}"
    except urllib.error.HTTPError as exc:
        return False, f"HTTP {exc.code}"
    except (urllib.error.URLError, OSError) as exc:
        return False, str(getattr(exc, "reason", exc))


def main(argv: list[str] | None = None) -> int:
    """Run the check; prints one line to stderr when not ready."""
    args = sys.argv[1:] if argv is None else argv
    url = args[0] if args else default_url()
    ok, seen = check(url)
    if not ok:
        print(f"mock-remd not ready at {url}: {seen}", file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
