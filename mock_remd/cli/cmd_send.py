"""``mock-remd send FILE --url URL --system S``: register a СЭМД file with a mock-remd and report the outcome.

Builds ``registerDocument`` from the document (metadata from its header, signatures from the given
key or the built-in TEST keys, CRC32 checksums), sends it, then waits for the result: a temporary
callback sink on a local port receives it (the system's ``callback_url`` is pointed at the sink for
the duration and restored afterwards), while the admin API is polled as a fallback. ``--no-listen``
only polls ``GET /_admin/documents/{localUid}``.

Exit status: 0 registered, 1 rejected (synchronous error, Fault or error callback), 2 no answer
(timeout, connection refused) or unusable input.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import uuid
from pathlib import Path
from typing import Any

NO_ANSWER = 2


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``send`` subcommand."""
    p = subparsers.add_parser(
        "send", help="register a СЭМД file with a running mock-remd and print the outcome",
        description=__doc__.splitlines()[0].replace("``", ""), epilog="exit status: 0 registered, 1 rejected, 2 no answer / bad input",
    )
    p.add_argument("file", type=Path, help="the CDA document (its exact bytes are sent and signed)")
    p.add_argument("--url", required=True, help="base URL of the server, e.g. http://127.0.0.1:8080")
    p.add_argument("--system", required=True, help="mnemonic of the sending system (e.g. demo)")
    p.add_argument("--client-entity-id", help="clientEntityId (default: the system's, from the admin API)")
    p.add_argument("--organization", help="MO OID (default: the document's custodian)")
    p.add_argument("--kind", help="NSI 1520 kind (default: from the document's templateId)")
    p.add_argument("--document-number", default="", help="documentNumber (MOCK:... picks a magic outcome)")
    p.add_argument("--association", action="append", default=[], metavar="TARGET[=TYPE]",
                   help="link to a registered document (emdrId or localUid); TYPE defaults to RPLC, the link to "
                        "the version this document replaces; repeatable")
    p.add_argument("--key", type=Path, help="doctor's GOST private key, PKCS#8 PEM (default: built-in TEST keys)")
    p.add_argument("--cert", type=Path, help="the doctor's certificate (PEM or DER)")
    p.add_argument("--org-key", type=Path, help="organisation's private key (default: the TEST organisation)")
    p.add_argument("--org-cert", type=Path, help="the organisation's certificate")
    p.add_argument("--no-org-signature", action="store_true", help="send without orgSignature")
    p.add_argument("--wait", type=float, default=30.0, metavar="SECONDS",
                   help="how long to wait for the result (default 30; 0 = report acceptance only)")
    p.add_argument("--no-listen", action="store_true",
                   help="do not open a callback port; learn the result from the admin API")
    p.add_argument("--listen-host", help="address the server can call back to (default: detected)")
    p.add_argument("--listen-port", type=int, default=0, help="callback port (default: a free one)")
    p.add_argument("--soap-version", choices=("1.1", "1.2"), default="1.2", help="SOAP version (default 1.2)")
    p.add_argument("--admin-token", default=os.environ.get("MOCK_REMD_ADMIN_TOKEN"),
                   help="admin API bearer token (env MOCK_REMD_ADMIN_TOKEN)")
    p.add_argument("--format", choices=("text", "json"), default="text", help="output format (default text)")
    p.add_argument("--dry-run", action="store_true", help="print the SOAP envelope instead of sending it")
    p.set_defaults(func=run)


def _fail(message: str) -> int:
    print(f"mock-remd send: {message}", file=sys.stderr)
    return NO_ANSWER


def _read(path: Path | None) -> bytes | None:
    return path.read_bytes() if path is not None else None


class _Progress:
    """A progress line on stderr: rewritten in place on a terminal, every 5 s otherwise."""

    def __init__(self, what: str, timeout: float) -> None:
        self.what, self.timeout = what, timeout
        self.tty = sys.stderr.isatty()
        self.next_line = 0.0
        print(f"mock-remd send: waiting up to {timeout:g} s for {what} …", file=sys.stderr, flush=True)

    def __call__(self, elapsed: float, seen: str) -> None:
        if self.tty:
            print(f"\r  … {elapsed:5.1f} s ({seen})\x1b[K", end="", file=sys.stderr, flush=True)
        elif elapsed >= self.next_line:
            if elapsed > 0.1:
                print(f"  … still waiting, {elapsed:.0f} s ({seen})", file=sys.stderr, flush=True)
            self.next_line = elapsed + 5.0

    def done(self) -> None:
        if self.tty:
            print("\r\x1b[K", end="", file=sys.stderr, flush=True)


def run(args: argparse.Namespace) -> int:
    """Send ``args.file``; returns the exit status."""
    from mock_remd.client.document import DocumentError, build_request, read_facts
    from mock_remd.client.signers import SignerSet
    from mock_remd.core.model import Association
    from mock_remd.soap.builders import register_envelope

    if not args.url.startswith(("http://", "https://")):
        return _fail(f"--url must start with http:// or https://: {args.url}")
    try:
        content = args.file.read_bytes()
        signers = SignerSet(key_pem=_read(args.key), cert_pem=_read(args.cert), org_key_pem=_read(args.org_key),
                            org_cert_pem=_read(args.org_cert), org_signature=not args.no_org_signature)
        facts = read_facts(content)
    except OSError as exc:
        return _fail(str(exc))
    except (ValueError, DocumentError) as exc:
        return _fail(f"{args.file}: {exc}")

    import requests

    from mock_remd.testing.admin_client import AdminClient, AdminError

    admin = AdminClient(args.url, args.admin_token)
    client_id = args.client_entity_id
    if client_id is None and not args.dry_run:
        try:
            system = admin.system(args.system)
        except (requests.RequestException, AdminError) as exc:
            return _fail(f"cannot read the systems from {args.url}/_admin/systems: {exc}")
        if system is None:
            return _fail(f"no system {args.system!r} on {args.url} (see GET {args.url}/_admin/systems)")
        client_id = system["client_entity_id"]
    message_id = str(uuid.uuid4())
    try:
        req = build_request(facts, content, signers, system=args.system, client_entity_id=client_id or "",
                            organization=args.organization or "", kind=args.kind or "",
                            document_number=args.document_number, message_id=message_id)
    except DocumentError as exc:
        return _fail(f"{args.file}: {exc}")
    except ValueError as exc:
        return _fail(f"cannot sign with this key/certificate: {exc}")
    for spec in args.association:
        target, _, kind_of_link = spec.partition("=")
        if not target.strip():
            return _fail(f"--association {spec!r}: the target (emdrId or localUid) is empty")
        req.associations.append(Association(target=target.strip(), type=kind_of_link.strip() or "RPLC"))
    envelope = register_envelope(req, version=args.soap_version)
    if args.dry_run:
        sys.stdout.buffer.write(envelope + b"\n")
        return 0
    return _send_and_wait(args, admin, envelope, req.local_uid, message_id)


def _send_and_wait(args: argparse.Namespace, admin: Any, envelope: bytes, local_uid: str, message_id: str) -> int:
    import requests

    from mock_remd.client.outcome import NO_ANSWER as NONE
    from mock_remd.client.outcome import REJECTED, Outcome, wait_outcome
    from mock_remd.testing.answers import post_envelope

    sink, restore = None, None
    if not args.no_listen and args.wait > 0:
        sink, restore, note = _listen(args, admin)
        if note:
            print(f"mock-remd send: {note}; polling the admin API instead", file=sys.stderr)
    try:
        try:
            answer = post_envelope(args.url.rstrip("/") + "/port/emdr", envelope, version=args.soap_version)
        except requests.RequestException as exc:
            return _report(args, Outcome(NONE, "none", local_uid, message_id, detail=f"cannot reach {args.url}: {exc}"))
        if answer.fault or answer.status == "error":
            return _report(args, Outcome(REJECTED, "sync", local_uid, message_id, errors=answer.errors,
                                         detail=f"SOAP Fault {answer.fault}" if answer.fault else ""))
        if not answer.accepted:
            return _report(args, Outcome(NONE, "sync", local_uid, message_id, detail=answer.describe()))
        if args.wait <= 0:
            return _report(args, Outcome(NONE, "sync", local_uid, message_id,
                                         detail="accepted for processing; not waiting for the result (--wait 0)"))
        what = f"the callback on {restore[1]}" if sink is not None and restore else "the result (admin API)"
        progress = _Progress(what, args.wait)
        try:
            outcome = wait_outcome(admin, local_uid, message_id, sink=sink, timeout=args.wait, progress=progress)
        finally:
            progress.done()
        return _report(args, outcome)
    finally:
        if restore is not None:
            try:
                admin.update_system(args.system, callback_url=restore[0])
            except Exception as exc:  # noqa: BLE001 - report and go on: the outcome is printed already
                print(f"mock-remd send: could not restore the callback_url of {args.system}: {exc}", file=sys.stderr)
        if sink is not None:
            sink.stop()


def _listen(args: argparse.Namespace, admin: Any) -> tuple[Any, tuple[str, str] | None, str]:
    """Start a sink and point the system at it: (sink, (previous url, sink url), problem)."""
    import requests

    from mock_remd.testing.admin_client import AdminError
    from mock_remd.testing.network import detect_callback_host, is_loopback
    from mock_remd.testing.sink import CallbackSink

    host = args.listen_host or detect_callback_host(args.url)
    bind = "127.0.0.1" if is_loopback(host) else "0.0.0.0"
    try:
        sink = CallbackSink(host=bind, port=args.listen_port).start()
    except OSError as exc:
        return None, None, f"cannot listen on {bind}:{args.listen_port}: {exc}"
    url = f"http://{host}:{sink.port}{sink.path}"
    try:
        previous = admin.system(args.system)
        if previous is None:
            sink.stop()
            return None, None, f"no system {args.system!r} to point at the callback port"
        admin.put_system(args.system, previous, callback_url=url)
    except (requests.RequestException, AdminError) as exc:
        sink.stop()
        return None, None, f"cannot point {args.system}'s callback at {url}: {exc}"
    return sink, (previous.get("callback_url") or "", url), ""


def _report(args: argparse.Namespace, outcome: Any) -> int:
    if args.format == "json":
        print(json.dumps(outcome.to_dict(), ensure_ascii=False))
    else:
        for line in outcome.lines():
            print(line)
    return outcome.exit_code
