"""Realistic СЭМД generator: valid documents of kinds 119, 174, 186, 204 and single-rule breakers.

>>> from mock_remd.generator import generate
>>> doc = generate("186", seed=7, signer=None)
>>> doc.request.local_uid in doc.content.decode()
True

``generate`` returns a :class:`GeneratedDocument`: the CDA bytes, the matching
:class:`~mock_remd.domain.model.RegisterRequest` (patient, signing doctors, signatures, the document
itself) and the SOAP envelope. The same ``seed`` gives the same document and request; "now" is taken
from the seed, never from the clock. ``invalid="<rule>"`` breaks exactly one named rule
(:data:`mock_remd.generator.invalid.RULES`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from mock_remd.catalog.kinds import Kind, KindRegistry, default_registry
from mock_remd.domain.model import RegisterRequest
from mock_remd.generator.conform import conform, unmark
from mock_remd.generator.header import build_header
from mock_remd.generator.invalid import RULES, InvalidRule, rule
from mock_remd.generator.kinds import SUPPORTED_KINDS, UnsupportedKindError, builder
from mock_remd.generator.model import (
    BASE_DATE,
    DEMO_CLIENT_ENTITY_ID,
    DEMO_ORGANIZATION,
    DEMO_SYSTEM,
    World,
    build_world,
)
from mock_remd.generator.request import build_request
from mock_remd.generator.rules import fit_schematron
from mock_remd.generator.signing import Signer, TestPkiSigner, default_signer
from mock_remd.generator.xml import serialize
from mock_remd.soap.builders import register_envelope
from mock_remd.validation.pack_index import installed_packs, select_pack

_NO_KIND = Kind(id="", type_1522="", edition="", name="")

__all__ = [
    "DEMO_CLIENT_ENTITY_ID",
    "DEMO_ORGANIZATION",
    "DEMO_SYSTEM",
    "RULES",
    "SUPPORTED_KINDS",
    "GeneratedDocument",
    "InvalidRule",
    "Signer",
    "TestPkiSigner",
    "UnsupportedKindError",
    "World",
    "generate",
]

_DEFAULT = object()


@dataclass(frozen=True)
class GeneratedDocument:
    """One generated document with its request."""

    kind: str
    seed: int
    content: bytes
    request: RegisterRequest
    world: World
    invalid: str | None = None

    @property
    def local_uid(self) -> str:
        return self.request.local_uid

    def envelope(self, version: str = "1.2") -> bytes:
        """The SOAP ``registerDocument`` envelope of :attr:`request`."""
        return register_envelope(self.request, version=version)


def generate(
    kind: str,
    seed: int = 0,
    *,
    invalid: str | None = None,
    organization: str = DEMO_ORGANIZATION,
    client_entity_id: str = DEMO_CLIENT_ENTITY_ID,
    system: str = DEMO_SYSTEM,
    signer: Signer | None | object = _DEFAULT,
    catalog: KindRegistry | None = None,
    packs_dir: Path | None = None,
) -> GeneratedDocument:
    """Generate document number ``seed`` of ``kind`` (``"119"``, ``"174"``, ``"186"``, ``"204"``).

    With ``packs_dir``, a kind without a hand-made builder is written with its installed pack's
    templateId and fitted to the pack's XSD. ``signer`` signs it (default: the built-in TEST PKI, see :class:`TestPkiSigner`; ``None`` leaves
    the request without signatures). ``invalid`` names a rule of :data:`RULES` to break. Kinds without a
    hand-made builder are written generically from ``catalog`` (default: the built-in kind catalog).
    Raises :class:`UnsupportedKindError` for other kinds, ``KeyError`` for unknown rules.
    """
    pack = _installed_pack(kind, packs_dir, catalog)
    kb = builder(kind, catalog, template_id=pack.template_id if pack else "",
                 ext_xsi_types=pack is not None and pack.generic_xsd)
    breaker: InvalidRule | None = rule(invalid) if invalid else None
    world = build_world(kb.kind, seed, kb.staffing, organization, window=_window(kb))
    tree = build_header(world, kb.header(world))
    kb.body(tree, world)
    if pack is not None and kb.catalog_kind is not None:
        _fit_to_pack(tree, pack, world)
    if breaker and breaker.tree:
        breaker.tree(tree, world)
    content = serialize(tree, comment=_comment(world, invalid))
    if breaker and breaker.bytes:
        content = breaker.bytes(content)
    active = default_signer() if signer is _DEFAULT else signer
    if breaker and breaker.signer and active is not None:
        active = breaker.signer()
    personal: list[bytes | None] = []
    org_sig: bytes | None = None
    if active is not None:
        personal = [active.personal(content, world, d) for d in world.doctors]  # type: ignore[union-attr]
        org_sig = active.organisation(content, world)  # type: ignore[union-attr]
    else:
        personal = [None] * len(world.doctors)
    request = build_request(world, content, personal, org_sig, client_entity_id=client_entity_id, system=system)
    if kb.catalog_kind is not None and kb.catalog_kind.series_required and not request.series:
        request.series = f"{int(kb.kind):03d}{world.created:%y}"  # kinds issued on numbered forms
    if breaker and breaker.request:
        breaker.request(request, world)
    return GeneratedDocument(kb.kind, seed, content, request, world, invalid)


@dataclass(frozen=True)
class _PackFiles:
    xsd: Path | None
    schematron: Path | None
    template_id: str
    #: Schematrons of the kind's other installed editions that name no other templateId (modules such
    #: as 76_1, the ЕПГУ checks of kind 76): the document is fitted to them too
    modules: tuple[Path, ...] = ()

    @property
    def generic_xsd(self) -> bool:
        """The pack validates with the generic HL7 CDA XSD (no schema of the RU extensions): the
        extension elements then carry ``xsi:type``."""
        return self.xsd is not None and not (self.xsd.parent / "identity.xsd").is_file()


def _fit_to_pack(tree, pack: _PackFiles, world: World) -> None:  # noqa: ANN001 - an lxml element
    """The kind's own XSD decides the shape, then its Schematron's asserts the content."""
    today = world.created.date()
    body = tree.find("{urn:hl7-org:v3}component/{urn:hl7-org:v3}structuredBody")
    if body is not None and pack.schematron is not None:
        body[:] = []  # the pack decides the sections: its XSD's required ones, then its Schematron's
    if pack.xsd is not None:
        conform(tree, pack.xsd, today=today)
    if pack.schematron is not None:
        refit = (lambda doc: conform(doc, pack.xsd, today=today)) if pack.xsd is not None else None
        fit_schematron(tree, pack.schematron, world, refit=refit)
        for module in pack.modules:
            fit_schematron(tree, module, world, refit=refit)
        if pack.modules:
            fit_schematron(tree, pack.schematron, world, refit=refit)
    unmark(tree)


def _installed_pack(kind: str, packs_dir: Path | None, catalog: KindRegistry | None) -> _PackFiles | None:
    """Root XSD, Schematron and templateId of the pack installed for ``kind`` (a generic kind only), or None."""
    if packs_dir is None or kind in SUPPORTED_KINDS:
        return None
    selected = select_pack(packs_dir, str(kind).strip())
    if selected is None:
        return None
    pack, entry = selected
    registry = catalog or default_registry()
    own = [t for t in entry.template_ids if (registry.by_template(t) or _NO_KIND).id == str(kind).strip()]
    template_id = (own or list(entry.template_ids) or [""])[0]
    modules = tuple(
        sch for other in installed_packs(packs_dir).for_kind(entry.kind)
        if other.directory != entry.directory and (not other.template_ids or template_id in other.template_ids)
        and (sch := other.pack(packs_dir).schematron) is not None and sch != pack.schematron)
    return _PackFiles(pack.xsd, pack.schematron, template_id, modules)


def _window(kb) -> tuple[dt.date, int] | None:  # noqa: ANN001 - a KindBuilder
    """Creation dates inside a generic kind's validity: from its start (or BASE_DATE), at most 540 days,
    never after its end nor after today (a kind that opened recently)."""
    kind = kb.catalog_kind
    if kind is None:
        return None
    first = max(kind.start_date or BASE_DATE, BASE_DATE)
    last = first + dt.timedelta(days=540)
    if kind.end_date is not None:
        last = min(last, kind.end_date - dt.timedelta(days=1))
    last = min(last, dt.date.today() - dt.timedelta(days=1))
    return first, (last - first).days


def _comment(world: World, invalid: str | None) -> str:
    text = (
        f"Generated by mock-remd (kind {world.kind}, seed {world.seed}). Fictitious people and organisation; "
        "check digits are valid, FIAS GUIDs are random."
    )
    if invalid:
        text += f" DELIBERATELY INVALID: breaks rule {invalid}."
    return text
