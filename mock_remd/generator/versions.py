"""New versions of a СЭМД: the next document of a version set, with its registerDocument request.

>>> from mock_remd.generator import generate
>>> from mock_remd.generator.versions import version_of
>>> v1 = generate("119", seed=3, signer=None)
>>> v2 = version_of(v1.content, signed=False)
>>> v2.version_number, v2.request.associations[0].target == v1.local_uid
(2, True)

A new version has a new ``id/@extension`` (a new localUid), the same ``setId``, ``versionNumber``
one higher, and — where the kind's schema allows it — ``relatedDocument[@typeCode='RPLC']`` naming
the previous version (its id, its emdrId when known, its setId and versionNumber). The request
carries ``associations/association`` with the previous version as ``target``. The input may come
from any toolchain: only the CDA header is read and changed.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass

from lxml import etree

from mock_remd.client.document import (
    DocumentError,
    DocumentFacts,
    SigningDoctor,
    build_request,
    read_facts,
    unreadable_xml,
)
from mock_remd.client.signers import SignerSet
from mock_remd.domain.model import Association, RegisterRequest
from mock_remd.generator.model import DEMO_CLIENT_ENTITY_ID, DEMO_SYSTEM
from mock_remd.validation.cda.access import HL7, attr, child, is_cda_root
from mock_remd.validation.cda.versions import REMD_NUMBER_ROOT, read_identity
from mock_remd.xmlsafe import parse_bytes, strip_bom

#: kinds whose official XSD has no ``relatedDocument`` in the header (their versions link by request only)
NO_RELATED_DOCUMENT = frozenset({"174", "186", "204"})
#: header elements that follow ``relatedDocument`` (HL7 CDA R2 order)
_AFTER_RELATED = ("authorization", "componentOf", "component")


@dataclass(frozen=True)
class GeneratedVersion:
    """One new version: the CDA bytes, its request and where it sits in the set."""

    content: bytes
    request: RegisterRequest
    previous_local_uid: str
    version_number: int

    @property
    def local_uid(self) -> str:
        return self.request.local_uid


def _q(name: str) -> str:
    return f"{{{HL7}}}{name}"


def _sub(parent: etree._Element, name: str, attrs: dict[str, str]) -> etree._Element:
    el = etree.SubElement(parent, _q(name))
    for k, v in attrs.items():
        el.set(k, v)
    return el


def next_version_content(content: bytes, *, local_uid: str | None = None, emdr_id: str = "",
                         related_document: bool = True) -> tuple[bytes, str, int]:
    """The next version of ``content``: ``(bytes, new localUid, new versionNumber)``.

    Raises :class:`~mock_remd.client.document.DocumentError` when ``content`` is not a CDA
    document with ``id``, ``setId`` and a numeric ``versionNumber``.
    """
    try:
        root = parse_bytes(strip_bom(content))
    except (etree.XMLSyntaxError, ValueError) as exc:
        raise unreadable_xml(exc) from exc
    identity = read_identity(root)
    if identity is None or not is_cda_root(root):
        raise DocumentError("doc.not_cda")
    id_el, set_el, version_el = child(root, "id"), child(root, "setId"), child(root, "versionNumber")
    if id_el is None or not attr(id_el, "extension"):
        raise DocumentError("doc.no_id")
    if set_el is None:
        raise DocumentError("doc.no_set_id")
    if version_el is None or identity.version_number is None:
        raise DocumentError("doc.no_version")
    previous_uid, previous_number = attr(id_el, "extension"), identity.version_number
    new_uid = local_uid or str(uuid.uuid4())
    id_el.set("extension", new_uid)
    version_el.set("value", str(previous_number + 1))
    for old in root.findall(_q("relatedDocument")):
        root.remove(old)
    if related_document:
        related = etree.Element(_q("relatedDocument"))
        related.set("typeCode", "RPLC")
        parent = _sub(related, "parentDocument", {})
        _sub(parent, "id", {"root": attr(id_el, "root"), "extension": previous_uid})
        if emdr_id:
            _sub(parent, "id", {"root": REMD_NUMBER_ROOT, "extension": emdr_id})
        _sub(parent, "setId", {k: v for k, v in set_el.attrib.items() if k in ("root", "extension")})
        _sub(parent, "versionNumber", {"value": str(previous_number)})
        following = next((c for c in root if isinstance(c.tag, str) and etree.QName(c).localname in _AFTER_RELATED
                          and etree.QName(c).namespace == HL7), None)
        if following is not None:
            following.addprevious(related)
        else:
            root.append(related)
    out = etree.tostring(root.getroottree(), xml_declaration=True, encoding="UTF-8")
    return out, new_uid, previous_number + 1


class _Unsigned:
    """A signer set that signs nothing (the request lists the doctors without signatures)."""

    def personal(self, content: bytes, facts: DocumentFacts) -> Iterator[tuple[SigningDoctor, bytes]]:
        for doctor in facts.doctors:
            yield doctor, b""

    def organisation(self, content: bytes, facts: DocumentFacts) -> bytes | None:
        return None


def version_of(previous: bytes, *, target: str = "", association_type: str = "RPLC", emdr_id: str = "",
               related_document: bool | None = None, local_uid: str | None = None, kind: str = "",
               system: str = DEMO_SYSTEM, client_entity_id: str = DEMO_CLIENT_ENTITY_ID,
               signers: SignerSet | None = None, signed: bool = True) -> GeneratedVersion:
    """The next version of the document ``previous`` with its registerDocument request.

    ``target`` is what the association names (default: the previous version's localUid; pass its
    emdrId to link by registry number); ``emdr_id`` also goes into ``relatedDocument``.
    ``related_document`` None = write ``relatedDocument`` unless the kind's schema forbids it.
    ``signed`` False leaves the signatures out (``signers`` default: the built-in TEST keys).
    """
    facts = read_facts(previous)
    kind = kind or facts.kind
    if related_document is None:
        related_document = kind not in NO_RELATED_DOCUMENT
    content, new_uid, number = next_version_content(previous, local_uid=local_uid, emdr_id=emdr_id,
                                                    related_document=related_document)
    new_facts = read_facts(content)
    request = build_request(new_facts, content, (signers or SignerSet()) if signed else _Unsigned(), system=system,
                            client_entity_id=client_entity_id, kind=kind, message_id=f"urn:uuid:{uuid.uuid4()}")
    if not signed:
        for sign in request.personal_signs:
            sign.signature = None
        request.org_signature = None
    request.associations.append(Association(target=target or facts.local_uid, type=association_type))
    return GeneratedVersion(content, request, facts.local_uid, number)
