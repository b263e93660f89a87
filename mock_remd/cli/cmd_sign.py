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

from mock_remd.catalog.user_messages import os_reason, say
from mock_remd.cli.common import fail, lang_of
from mock_remd.client.signers import SignerOptionsError, check_pair


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

    lang = lang_of(args)
    try:
        if (args.key is None) != (args.cert is None):
            raise SignerOptionsError("signer.pair", key_option="--key", cert_option="--cert")
        content = args.file.read_bytes()
        if args.key is not None:
            key_pem, cert_pem = args.key.read_bytes(), args.cert.read_bytes()
            check_pair(key_pem, cert_pem, "--key", "--cert")
        else:
            identity = test_organisation() if args.org else test_doctor()
            key_pem, cert_pem = identity.key_pem, identity.cert_pem
    except OSError as exc:
        key = "file.missing" if isinstance(exc, FileNotFoundError) else "file.unreadable"
        return fail(args, "sign", say(lang, key, path=exc.filename or args.file,
                                      reason=os_reason(lang, exc)), exc)
    except SignerOptionsError as exc:
        return fail(args, "sign", exc.text(lang), exc)
    try:
        der = sign_detached(content, key_pem, cert_pem)
    except (ValueError, TypeError) as exc:  # read, but it does not sign: the library's words in --verbose only
        return fail(args, "sign", say(lang, "signer.cannot_sign", options="--key"), exc)
    data = der if args.der else base64.b64encode(der) + b"\n"
    if args.out == "-":
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return 0
    out = Path(args.out) if args.out else args.file.with_name(args.file.name + ".sig")
    try:
        out.write_bytes(data)
    except OSError as exc:
        return fail(args, "sign", say(lang, "file.unwritable", path=out, reason=os_reason(lang, exc)), exc)
    print(say(lang, "sign.done", path=out, form="DER" if args.der else "base64", size=len(der)), file=sys.stderr)
    return 0
