"""``mock-remd send FILE --url URL --system S``: register a СЭМД file with a mock-remd and report the outcome.

FILE is a CDA document or a registerDocument request (a SOAP envelope such as ``generate``'s
``.request.xml``), which is sent exactly as it is. For a CDA the request is built from the document
(metadata from its header, signatures from the given key or the built-in TEST keys, CRC32 checksums);
a document ``generate --invalid`` broke at the request level is sent with its generated request, or
refused when options would rebuild that request. Then ``send`` waits for the result: a temporary
callback sink on a local port receives it (the system's ``callback_url`` points at the sink
meanwhile; parallel sends share it safely) while the admin API is polled as a fallback.
``--no-listen`` only polls ``GET /_admin/documents/{localUid}``.

Exit status: 0 registered (or accepted with --wait 0), 1 rejected (synchronous error, Fault or error
callback), 2 no answer (timeout, connection refused) or unusable input.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import uuid
from pathlib import Path
from typing import Any

from mock_remd.catalog.user_messages import network_failure, os_reason, say
from mock_remd.cli.common import fail, lang_of
from mock_remd.config import environment_value

NO_ANSWER = 2


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``send`` subcommand."""
    p = subparsers.add_parser(
        "send", help="register a SEMD file with a running mock-remd and print the outcome",
        description="Register a SEMD file with a running mock-remd and report the outcome. FILE is a CDA document "
                    "(the request is built from it and signed with the built-in TEST keys or --key/--cert) or a "
                    "registerDocument request, sent as it is. The result comes to a temporary callback port, "
                    "else from the admin API.",
        epilog="exit status: 0 registered (or accepted with --wait 0), 1 rejected, 2 no answer / bad input",
    )
    p.add_argument("file", type=Path, metavar="FILE",
                   help="the CDA document (its exact bytes are sent and signed), or a registerDocument request "
                        "envelope (.request.xml) sent as it is")
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
    p.add_argument("--admin-token", default=environment_value("MOCK_REMD_ADMIN_TOKEN"),
                   help="admin API bearer token (env MOCK_REMD_ADMIN_TOKEN)")
    p.add_argument("--format", choices=("text", "json"), default="text", help="output format (default text)")
    p.add_argument("--dry-run", action="store_true", help="print the SOAP envelope instead of sending it")
    p.set_defaults(func=run)


#: options that change the request ``send`` builds (a generated request is then not sent as it is)
REQUEST_OPTIONS = ("client_entity_id", "organization", "kind", "document_number", "key", "cert", "org_key",
                   "org_cert", "no_org_signature", "association")
#: the comment ``generate --invalid`` leaves in the CDA
_INVALID_MARK = re.compile(rb"DELIBERATELY INVALID: breaks rule ([a-z0-9-]+)")


def _fail(args: argparse.Namespace, message: str, exc: BaseException | None = None) -> int:
    return fail(args, "send", message, exc=exc, status=NO_ANSWER)


def _read(path: Path | None) -> bytes | None:
    return path.read_bytes() if path is not None else None


class _Progress:
    """A progress line on stderr: rewritten in place on a terminal, every 5 s otherwise."""

    def __init__(self, what: str, timeout: float, lang: str) -> None:
        self.what, self.timeout, self.lang = what, timeout, lang
        self.tty = sys.stderr.isatty()
        self.next_line = 0.0
        print(f"mock-remd send: {say(lang, 'send.waiting', seconds=f'{timeout:g}', what=what)}", file=sys.stderr,
              flush=True)

    def __call__(self, elapsed: float, seen: str) -> None:
        if self.tty:
            print(f"\r  … {elapsed:5.1f} s ({seen})\x1b[K", end="", file=sys.stderr, flush=True)
        elif elapsed >= self.next_line:
            if elapsed > 0.1:
                print(f"  … {say(self.lang, 'send.still_waiting', seconds=f'{elapsed:.0f}', seen=seen)}",
                      file=sys.stderr, flush=True)
            self.next_line = elapsed + 5.0

    def done(self) -> None:
        if self.tty:
            print("\r\x1b[K", end="", file=sys.stderr, flush=True)


def _request_level_rule(content: bytes) -> str:
    """The ``generate --invalid`` rule a CDA was made to break, when that rule lives in the request."""
    from mock_remd.generator.invalid import RULES

    found = _INVALID_MARK.search(content[:4096])
    rule = RULES.get(found.group(1).decode()) if found else None
    if rule is None or not (rule.request or rule.signer) or rule.tree or rule.bytes:
        return ""  # the defect is in the document itself: a rebuilt request keeps it
    return rule.name


def _as_envelope(content: bytes) -> tuple[Any, Any] | None:
    """(Envelope, RegisterRequest) when ``content`` is a registerDocument SOAP envelope, else None."""
    from mock_remd.soap.envelope import parse_envelope
    from mock_remd.soap.faults import SoapFault
    from mock_remd.soap.operations import find_register_request, parse_register

    if b"registerDocumentRequest" not in content[:1 << 20] or b"Envelope" not in content[:4096]:
        return None
    try:
        env = parse_envelope(content, max_bytes=len(content) + 1)
    except SoapFault:
        return None
    op = find_register_request(env.root)
    if op is None:
        return None
    return env, parse_register(op, message_id=env.message_id, client_entity_id=env.client_entity_id)


def run(args: argparse.Namespace) -> int:
    """Send ``args.file``; returns the exit status."""
    from mock_remd.client.document import DocumentError, build_request, read_facts
    from mock_remd.client.signers import SignerOptionsError, SignerSet
    from mock_remd.domain.model import Association
    from mock_remd.soap.builders import register_envelope

    lang = lang_of(args)
    if not args.url.startswith(("http://", "https://")):
        return _fail(args, f"--url {args.url}: " + ("нужен адрес http:// или https://" if lang == "ru"
                                                     else "must start with http:// or https://"))
    if args.file.is_dir():
        return _fail(args, say(lang, "file.is_dir", path=args.file))
    try:
        content = args.file.read_bytes()
    except OSError as exc:
        key = "file.missing" if isinstance(exc, FileNotFoundError) else "file.unreadable"
        return _fail(args, say(lang, key, path=args.file, reason=os_reason(lang, exc)))
    changed = [o for o in REQUEST_OPTIONS if getattr(args, o, None)]

    given = _as_envelope(content)
    if given is not None:  # a request: sent exactly as it is
        env, req = given
        if changed:
            return _fail(args, f"{args.file}: " + (
                "это готовый запрос registerDocument, он отправляется как есть; параметры --"
                if lang == "ru" else "is a ready registerDocument request, sent as it is; the options --")
                + ", --".join(o.replace("_", "-") for o in changed)
                + (" к нему не применяются" if lang == "ru" else " do not apply to it"))
        if args.dry_run:
            sys.stdout.buffer.write(content + b"\n")
            return 0
        from mock_remd.client.admin_client import AdminClient

        admin = AdminClient(args.url, args.admin_token, lang=lang_of(args))
        return _send_and_wait(args, admin, content, req.local_uid, env.message_id, version=env.version)

    rule = _request_level_rule(content)
    if rule:
        generated = args.file.with_name(args.file.stem + ".request.xml")
        if changed or not generated.is_file():
            where = f"{generated}" if generated.is_file() else f"{args.file.stem}.request.xml"
            return _fail(args, (
                f"{args.file} сделан generate --invalid {rule}: дефект в запросе registerDocument, а send "
                f"построил бы верный запрос; отправьте сам запрос: mock-remd send {where}")
                if lang == "ru" else (
                f"{args.file} was made by generate --invalid {rule}: the defect is in the registerDocument "
                f"request, which send would rebuild correctly; send the request itself: mock-remd send {where}"))
        print(f"mock-remd send: {args.file} нарушает правило {rule} в запросе — отправляется сгенерированный "
              f"запрос {generated} как есть" if lang == "ru" else
              f"mock-remd send: {args.file} breaks rule {rule} in its request: sending {generated} as it is",
              file=sys.stderr)
        args.file = generated
        return run(args)

    try:
        signers = SignerSet(key_pem=_read(args.key), cert_pem=_read(args.cert), org_key_pem=_read(args.org_key),
                            org_cert_pem=_read(args.org_cert), org_signature=not args.no_org_signature)
        facts = read_facts(content)
    except OSError as exc:
        return _fail(args, say(lang, "file.unreadable", path=exc.filename or args.file,
                               reason=os_reason(lang, exc)), exc)
    except DocumentError as exc:
        return _fail(args, f"{args.file}: {exc.text(lang)}")
    except SignerOptionsError as exc:  # a catalogue sentence naming the option (--key and --cert go together)
        return _fail(args, exc.text(lang), exc)

    import requests

    from mock_remd.client.admin_client import AdminClient, AdminError

    admin = AdminClient(args.url, args.admin_token, lang=lang_of(args))
    client_id = args.client_entity_id
    if client_id is None and not args.dry_run:
        try:
            system = admin.system(args.system)
        except requests.RequestException as exc:
            return _fail(args, network_failure(lang, exc, args.url), exc)
        except AdminError as exc:
            return _fail(args, say(lang, "send.admin_refused", url=f"{args.url}/_admin/systems", status=exc.status,
                                   error=exc.error), exc)
        if system is None:
            return _fail(args, say(lang, "send.no_system", system=args.system, url=args.url))
        client_id = system["client_entity_id"]
    message_id = str(uuid.uuid4())
    try:
        req = build_request(facts, content, signers, system=args.system, client_entity_id=client_id or "",
                            organization=args.organization or "", kind=args.kind or "",
                            document_number=args.document_number, message_id=message_id)
    except DocumentError as exc:
        return _fail(args, f"{args.file}: {exc.text(lang)}")
    except (ValueError, TypeError) as exc:  # the pair was read but does not sign (the library's words: --verbose)
        given = [o for o in ("key", "org_key") if getattr(args, o, None)]
        if not given:
            raise  # the built-in TEST keys always sign: a fault of ours (an incident, not a sentence)
        options = ", ".join("--" + o.replace("_", "-") for o in given)
        return _fail(args, say(lang, "signer.cannot_sign", options=options), exc)
    for spec in args.association:
        target, _, kind_of_link = spec.partition("=")
        if not target.strip():
            return _fail(args, f"--association {spec!r}: " + ("не указан документ (emdrId или localUid)" if lang == "ru"
                                                              else "the target (emdrId or localUid) is empty"))
        req.associations.append(Association(target=target.strip(), type=kind_of_link.strip() or "RPLC"))
    envelope = register_envelope(req, version=args.soap_version)
    if args.dry_run:
        sys.stdout.buffer.write(envelope + b"\n")
        return 0
    return _send_and_wait(args, admin, envelope, req.local_uid, message_id, version=args.soap_version)


def _send_and_wait(args: argparse.Namespace, admin: Any, envelope: bytes, local_uid: str, message_id: str,
                   *, version: str) -> int:
    import requests

    from mock_remd.client.answers import post_envelope
    from mock_remd.client.outcome import ACCEPTED, REJECTED, Outcome, wait_outcome
    from mock_remd.client.outcome import NO_ANSWER as NONE

    lang = lang_of(args)
    sink, route = None, None
    if not args.no_listen and args.wait > 0:
        sink, route, note = _listen(args, admin, message_id)
        if note:
            print(f"mock-remd send: {say(lang, 'send.polling_instead', note=note)}", file=sys.stderr)
    try:
        try:
            answer = post_envelope(args.url.rstrip("/") + "/port/emdr", envelope, version=version)
        except requests.RequestException as exc:
            if args.verbose:
                print(f"  {type(exc).__name__}: {exc}", file=sys.stderr)
            return _report(args, Outcome(NONE, "none", local_uid, message_id,
                                         detail=network_failure(lang, exc, args.url)))
        if answer.fault or answer.status == "error":
            return _report(args, Outcome(REJECTED, "sync", local_uid, message_id, errors=answer.errors,
                                         detail=say(lang, "outcome.fault", fault=answer.fault) if answer.fault else ""))
        if not answer.accepted:
            return _report(args, Outcome(NONE, "sync", local_uid, message_id, detail=answer.describe()))
        if args.wait <= 0:
            return _report(args, Outcome(ACCEPTED, "sync", local_uid, message_id,
                                         detail=say(lang, "outcome.not_waited")))
        what = say(lang, "send.what_callback", url=route.advertised_url) if route is not None \
            else say(lang, "send.what_admin")
        progress = _Progress(what, args.wait, lang)
        try:
            outcome = wait_outcome(admin, local_uid, message_id, sink=sink, timeout=args.wait, progress=progress,
                                   route=route, lang=lang)
        finally:
            progress.done()
        return _report(args, outcome)
    finally:
        if route is not None:
            try:
                route.close()
            except (requests.RequestException, OSError) as exc:
                note = say(lang, "send.not_restored", system=args.system, reason=network_failure(lang, exc, args.url))
                print(f"mock-remd send: {note}", file=sys.stderr)
            route.forward_foreign(sink)  # what arrived for other sends while this one finished
        if sink is not None:
            sink.stop()


def _listen(args: argparse.Namespace, admin: Any, message_id: str) -> tuple[Any, Any, str]:
    """Start a sink and point the system at it: (sink, route, problem)."""
    import requests

    from mock_remd.client.admin_client import AdminError
    from mock_remd.client.callback_route import CallbackRoute
    from mock_remd.client.network import detect_callback_host, is_loopback
    from mock_remd.client.sink import CallbackSink

    lang = lang_of(args)
    host = args.listen_host or detect_callback_host(args.url)
    bind = "127.0.0.1" if is_loopback(host) else "0.0.0.0"
    try:
        sink = CallbackSink(host=bind, port=args.listen_port).start()
    except OSError:
        return None, None, say(lang, "serve.bind_failed", host=bind, port=args.listen_port)
    url = f"http://{host}:{sink.port}{sink.path}"
    route = CallbackRoute(admin, args.system, args.url, advertised_url=url,
                          local_url=f"http://127.0.0.1:{sink.port}{sink.path}", message_id=message_id)
    try:
        route.open()
    except LookupError:
        sink.stop()
        return None, None, say(lang, "send.no_system_route", system=args.system)
    except requests.RequestException as exc:
        sink.stop()
        return None, None, network_failure(lang, exc, args.url)
    except AdminError as exc:
        sink.stop()
        return None, None, say(lang, "send.route_refused", system=args.system, url=url, status=exc.status,
                               error=exc.error)
    return sink, route, ""


def _report(args: argparse.Namespace, outcome: Any) -> int:
    if args.format == "json":
        print(json.dumps(outcome.to_dict(), ensure_ascii=False))
    else:
        for line in outcome.lines(lang_of(args)):
            print(line)
    return outcome.exit_code
