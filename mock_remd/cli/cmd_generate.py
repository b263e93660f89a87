"""``mock-remd generate``: realistic СЭМД with their registerDocument requests (CONTRACT §8).

Writes ``<localUid>.xml`` (the CDA) and ``<localUid>.request.xml`` (the SOAP 1.2 envelope) per
document into ``--out`` and prints the paths. ``--seed`` makes the output repeatable (dates come from
the seed, not the clock); signatures use the built-in TEST PKI and, GOST signatures being randomised,
are the only bytes that differ between two runs with the same seed (``--unsigned`` omits them).
"""

from __future__ import annotations

import argparse
import secrets
import sys
from pathlib import Path

from mock_remd.catalog.user_messages import say
from mock_remd.cli.common import lang_of


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``generate`` subcommand."""
    p = subparsers.add_parser(
        "generate",
        help="generate valid (or deliberately invalid) SEMD and their registerDocument requests",
        description="Generate realistic SEMD with matching registerDocument requests: kinds 119, 174, 186 and 204 "
                    "are hand-made, any other CDA kind of NSI 1520 is fitted to its installed pack's XSD.",
    )
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument("--kind", help="NSI 1520 kind to generate (required): 119, 174, 186, 204 hand-made, or any "
                      "CDA kind of the catalog (fitted to its installed pack's XSD)")
    what.add_argument("--list-invalid", action="store_true", help="list the rules --invalid can break, and exit")
    what.add_argument("--version-of", metavar="FILE",
                      help="make the next version of this CDA document (any toolchain's; its kind is read from it)")
    p.add_argument("--count", type=int, default=1, help="how many documents (default 1)")
    p.add_argument("--out", default=".", help="output directory (default: the current directory)")
    p.add_argument("--seed", type=int, default=None,
                   help="seed of the first document; document i uses seed+i (default: a fresh random seed, printed "
                        "to stderr, so each run makes new localUids that a running registry has not seen)")
    p.add_argument("--invalid", metavar="RULE", help="break exactly one named rule (see --list-invalid)")
    p.add_argument("--organization", help="MO OID (default: the demo organisation 1.2.643.5.1.13.13.12.2.50.99999)")
    p.add_argument("--client-entity-id", help="clientEntityId for the request header (default: the demo system's)")
    p.add_argument("--system", help="system mnemonic in the request (default: demo)")
    p.add_argument("--unsigned", action="store_true", help="leave signatures out of the request")
    p.add_argument("--packs", metavar="DIR", help="installed packs a generic kind is fitted to "
                   "(default: MOCK_REMD_PACKS_DIR, else .mock-remd/packs when present)")
    p.add_argument("--soap-version", choices=("1.1", "1.2"), default="1.2", help="SOAP version of the request")
    v = p.add_argument_group("new versions", "with --version-of FILE: the next version of that document "
                             "(new localUid, same setId, versionNumber + 1, an association to FILE's version)")
    v.add_argument("--emdr-id", metavar="ID", help="FILE's registry number: written into relatedDocument and used "
                                                   "as the association target unless --target is given")
    v.add_argument("--target", metavar="ID", help="association target (default: FILE's localUid, or --emdr-id)")
    v.add_argument("--association-type", default="RPLC", metavar="T", help="association type (default RPLC)")
    v.add_argument("--related-document", action=argparse.BooleanOptionalAction, default=None,
                   help="write relatedDocument into the header (default: unless the kind's schema forbids it)")
    p.set_defaults(func=run)


def _version(args: argparse.Namespace) -> int:
    from mock_remd.client.document import DocumentError
    from mock_remd.generator.versions import version_of

    path = Path(args.version_of)
    try:
        previous = path.read_bytes()
    except OSError as exc:
        print(f"mock-remd generate: {say(lang_of(args), 'file.unreadable', path=path, reason=_reason(exc))}",
              file=sys.stderr)
        return 2
    options: dict = {"signed": not args.unsigned}
    for name in ("client_entity_id", "system"):
        if getattr(args, name):
            options[name] = getattr(args, name)
    try:
        doc = version_of(previous, target=args.target or args.emdr_id or "", association_type=args.association_type,
                         emdr_id=args.emdr_id or "", related_document=args.related_document,
                         **options)
    except DocumentError as exc:
        print(f"mock-remd generate: {path}: {exc.text(lang_of(args))}", file=sys.stderr)
        return 2
    out = Path(args.out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        print(f"mock-remd generate: {say(lang_of(args), 'generate.cannot_create', path=out, reason=_reason(exc))}",
              file=sys.stderr)
        return 2
    from mock_remd.soap.builders import register_envelope

    cda = out / f"{doc.local_uid}.xml"
    req = out / f"{doc.local_uid}.request.xml"
    cda.write_bytes(doc.content)
    req.write_bytes(register_envelope(doc.request, version=args.soap_version))
    print(cda)
    print(req)
    return 0


def _reason(exc: OSError) -> str:
    """The system's reason for a file error (its errno text), never the exception's repr."""
    return exc.strerror or "?"


def _list_invalid(lang: str) -> int:
    from mock_remd.generator.invalid import RULES, describe

    width = max(len(n) for n in RULES)
    for rule in RULES.values():
        where = f"{rule.layer}/{rule.code}"
        if rule.layer in ("xsd", "schematron") and "header" in rule.also:
            # without the official packs (make run) the project's own header rules report it
            where += say(lang, "generate.header_without_packs")
        kinds = say(lang, "generate.list_kinds", kinds=", ".join(rule.kinds)) if rule.kinds else ""
        print(f"{rule.name:<{width}}  {where:<60} {describe(rule, lang)}{kinds}")
    return 0


def run(args: argparse.Namespace) -> int:
    """Generate the documents; exit 0, or 2 for unusable options."""
    from mock_remd import generator
    from mock_remd.generator.invalid import RULES

    lang = lang_of(args)
    if args.list_invalid:
        return _list_invalid(lang_of(args))
    if args.version_of:
        return _version(args)
    if not args.kind:
        print(f"mock-remd generate: {say(lang, 'generate.kind_required', kinds=', '.join(generator.SUPPORTED_KINDS))}",
              file=sys.stderr)
        return 2
    kind = str(args.kind).strip()
    from mock_remd.config import ConfigError, Settings

    try:
        settings = Settings.load({"packs_dir": args.packs}, options={"packs_dir": "--packs"})
        settings.check()
    except ConfigError as exc:
        print(f"mock-remd generate: {exc.text(lang_of(args))}", file=sys.stderr)
        return 2
    catalog = settings.validation_settings().kinds
    entry = catalog.get(kind)
    if kind not in generator.SUPPORTED_KINDS and (entry is None or not entry.is_cda):
        print("mock-remd generate: " + say(lang, "generate.not_cda_kind", kind=kind, version=catalog.version,
                                           kinds=", ".join(generator.SUPPORTED_KINDS)), file=sys.stderr)
        return 2
    if args.invalid:
        rule = RULES.get(args.invalid)
        if rule is None:
            print(f"mock-remd generate: {say(lang, 'generate.unknown_rule', rule=args.invalid)}", file=sys.stderr)
            return 2
        if not rule.applies_to(kind):
            print(f"mock-remd generate: {say(lang, 'generate.rule_kinds', rule=rule.name, kinds=', '.join(rule.kinds))}",
                  file=sys.stderr)
            return 2
    if args.count < 1:
        print(f"mock-remd generate: {say(lang, 'generate.count')}", file=sys.stderr)
        return 2
    out = Path(args.out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        print(f"mock-remd generate: {say(lang, 'generate.cannot_create', path=out, reason=_reason(exc))}",
              file=sys.stderr)
        return 2
    options: dict = {}
    if args.organization:
        options["organization"] = args.organization
    if args.client_entity_id:
        options["client_entity_id"] = args.client_entity_id
    if args.system:
        options["system"] = args.system
    if args.unsigned:
        options["signer"] = None
    options["catalog"] = catalog
    options["packs_dir"] = settings.packs_path
    seed = args.seed
    if seed is None:
        seed = secrets.randbelow(10**9)
        print(f"mock-remd generate: {say(lang, 'generate.seed', seed=seed)}", file=sys.stderr)
    for i in range(args.count):
        doc = generator.generate(kind, seed + i, invalid=args.invalid, **options)
        cda = out / f"{doc.local_uid}.xml"
        req = out / f"{doc.local_uid}.request.xml"
        cda.write_bytes(doc.content)
        req.write_bytes(doc.envelope(version=args.soap_version))
        print(cda)
        print(req)
    return 0
