"""``mock-remd sign FILE [--key K --cert C] [--out FILE.sig] [--der]``: a detached GOST CMS signature.

Writes base64 of the DER CMS by default — exactly what goes into ``signature/data`` — or raw DER with
``--der``. Without ``--key``/``--cert`` the built-in TEST doctor key signs (``--org``: the TEST organisation).
Exit status: 0 signed, 2 unusable input (missing file, unreadable key or certificate).
"""

from __future__ import annotations

import argparse
import base64
import sys
from pathlib import Path

from mock_remd.catalog.incidents import safe_text


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``sign`` subcommand."""
    p = subparsers.add_parser(
        "sign",
        help="sign a document with a detached GOST CMS signature (base64 for signature/data)",
        description="Sign a document with a detached GOST R 34.10-2012 CMS signature: base64 of the DER (what "
                    "goes into signature/data), or raw DER with --der. Without --key/--cert the built-in TEST doctor "
                    "key signs (--org: the TEST organisation).",
        epilog="exit status: 0 signed, 2 unusable input (missing file, unreadable key or certificate)",
    )
    p.add_argument("file", type=Path, metavar="FILE", help="the document (its exact bytes are signed)")
    p.add_argument("--key", type=Path, help="GOST R 34.10-2012 private key, PKCS#8 PEM (openssl genpkey -engine gost)")
    p.add_argument("--cert", type=Path, help="the signer's certificate (PEM or DER)")
    p.add_argument("--org", action="store_true", help="use the built-in TEST organisation key instead of the TEST doctor")
    p.add_argument("--out", help="where to write the signature (default FILE.sig; '-' = stdout)")
    p.add_argument("--der", action="store_true", help="write raw DER instead of base64")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Sign ``args.file``; returns the exit status."""
    from mock_remd.signing import sign_detached, test_doctor, test_organisation

    if (args.key is None) != (args.cert is None):
        print("mock-remd sign: --key and --cert go together", file=sys.stderr)
        return 2
    try:
        content = args.file.read_bytes()
        if args.key is not None:
            key_pem, cert_pem = args.key.read_bytes(), args.cert.read_bytes()
        else:
            identity = test_organisation() if args.org else test_doctor()
            key_pem, cert_pem = identity.key_pem, identity.cert_pem
        der = sign_detached(content, key_pem, cert_pem)
    except OSError as exc:
        print(f"mock-remd sign: {safe_text(exc, 'file not readable')}", file=sys.stderr)
        return 2
    except ValueError as exc:
        reason = safe_text(exc, "the key or the certificate is not a GOST R 34.10-2012 PEM")
        print(f"mock-remd sign: cannot sign with this key/certificate: {reason}", file=sys.stderr)
        return 2
    data = der if args.der else base64.b64encode(der) + b"\n"
    if args.out == "-":
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return 0
    out = Path(args.out) if args.out else args.file.with_name(args.file.name + ".sig")
    try:
        out.write_bytes(data)
    except OSError as exc:
        print(f"mock-remd sign: {safe_text(exc, 'file not writable')}", file=sys.stderr)
        return 2
    print(f"{out}: {'DER' if args.der else 'base64'} detached CMS, {len(der)} bytes of DER", file=sys.stderr)
    return 0
