"""Single-rule breakers: ``generate(..., invalid="<name>")`` yields a document that breaks one rule.

Each :class:`InvalidRule` says which validation layer should catch it and with which registry code,
so QA can build negative suites (``mock-remd generate --list-invalid`` prints them). A rule changes
the CDA tree before it is written (``tree``), the written bytes (``bytes``), the signing step
(``signer``) or the request after it is built (``request``) — never more than one thing.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass

from lxml import etree

from mock_remd.domain.model import RegisterRequest
from mock_remd.generator.faker import snils_check_digits
from mock_remd.generator.model import World
from mock_remd.generator.xml import V3, qname

TreeFix = Callable[[etree._Element, World], None]
BytesFix = Callable[[bytes], bytes]
RequestFix = Callable[[RegisterRequest, World], None]


@dataclass(frozen=True)
class InvalidRule:
    """A named way to break a document."""

    name: str
    description: str
    #: validation layer expected to report it (``request`` = the synchronous answer to registerDocument)
    layer: str
    #: registry error code expected
    code: str
    tree: TreeFix | None = None
    bytes: BytesFix | None = None
    request: RequestFix | None = None
    signer: Callable[[], object] | None = None
    #: kinds the rule applies to (empty = every generated kind)
    kinds: tuple[str, ...] = ()
    #: other layers that legitimately report the same violation (the header layer re-implements the
    #: shared Main/Core rules; the strict per-kind XSDs of 174/186/204 fix many of the same values)
    also: tuple[str, ...] = ()

    def applies_to(self, kind: str) -> bool:
        """True when the rule can be applied to ``kind``."""
        return not self.kinds or kind in self.kinds


def _find(tree: etree._Element, path: str) -> etree._Element:
    node = tree.find(path, {"v3": V3})
    if node is None:
        raise LookupError(f"generated document has no {path}")
    return node


def _bad_snils(digits: str) -> str:
    good = snils_check_digits(digits[:9])
    return digits[:9] + f"{(int(good) + 1) % 100:02d}"


def _snils_checksum_tree(tree: etree._Element, world: World) -> None:
    node = _find(tree, "v3:recordTarget/v3:patientRole/v3:id[@root='1.2.643.100.3']")
    node.set("extension", _bad_snils(world.patient.snils))


def _snils_checksum_request(req: RegisterRequest, world: World) -> None:
    assert req.patient is not None
    req.patient.snils = _bad_snils(world.patient.snils)


def _effective_time_seconds(tree: etree._Element, world: World) -> None:
    _find(tree, "v3:effectiveTime").set("value", world.created.strftime("%Y%m%d%H%M") + "27" + "+0300")


def _effective_time_seconds_request(req: RegisterRequest, world: World) -> None:
    req.creation_date_time = world.created.replace(second=27).isoformat()


def _effective_time_no_zone(tree: etree._Element, world: World) -> None:
    _find(tree, "v3:effectiveTime").set("value", world.created.strftime("%Y%m%d%H%M"))


def _drop(path: str) -> TreeFix:
    def fix(tree: etree._Element, world: World) -> None:
        node = _find(tree, path)
        node.getparent().remove(node)

    return fix


def _setid_equals_id(tree: etree._Element, world: World) -> None:
    _find(tree, "v3:setId").set("root", _find(tree, "v3:id").get("root"))


def _author_time_value(tree: etree._Element, world: World) -> None:
    node = _find(tree, "v3:author/v3:time")
    del node.attrib["nullFlavor"]
    node.set("value", world.created.strftime("%Y%m%d%H%M%z"))


def _swap_title_code(tree: etree._Element, world: World) -> None:
    title = _find(tree, "v3:title")
    code = _find(tree, "v3:code")
    code.addprevious(title)


def _gender_display(tree: etree._Element, world: World) -> None:
    node = _find(tree, "v3:recordTarget/v3:patientRole/v3:patient/v3:administrativeGenderCode")
    node.set("displayName", "Женский" if node.get("code") == "1" else "Мужской")


def _unknown_element(tree: etree._Element, world: World) -> None:
    title = _find(tree, "v3:title")
    extra = etree.Element(qname("subtitle"))
    extra.text = "Лишний элемент"
    title.addnext(extra)


def _not_well_formed(content: bytes) -> bytes:
    return content.rstrip().removesuffix(b"</ClinicalDocument>") + b"</ClinicalDocumen>\n"


def _local_uid_mismatch(req: RegisterRequest, world: World) -> None:
    req.local_uid = str(uuid.uuid5(uuid.NAMESPACE_OID, world.local_uid))


def _patient_snils_mismatch(req: RegisterRequest, world: World) -> None:
    assert req.patient is not None and world.fake is not None
    other = world.fake.snils_digits()
    while other == world.patient.snils:
        other = world.fake.snils_digits()
    req.patient.snils = other


def _doctor_snils_mismatch(req: RegisterRequest, world: World) -> None:
    assert world.fake is not None
    other = world.fake.snils_digits()
    while other == world.author.snils:
        other = world.fake.snils_digits()
    req.personal_signs[0].doctor.person.snils = other


def _kind_mismatch(req: RegisterRequest, world: World) -> None:
    req.kind = "186" if world.kind != "186" else "174"


def _patient_family_mismatch(req: RegisterRequest, world: World) -> None:
    assert req.patient is not None
    req.patient.surname = req.patient.surname + "а-Иванова"


def _creation_date_mismatch(req: RegisterRequest, world: World) -> None:
    import datetime as dt

    req.creation_date_time = (world.created - dt.timedelta(days=3)).isoformat()


def _drop_org_signature(req: RegisterRequest, world: World) -> None:
    req.org_signature = None


def _wrong_digest_signer() -> object:
    from mock_remd.generator.signing import TestPkiSigner

    return TestPkiSigner(message_digest=bytes(32))


_LIST = [
    InvalidRule("not-well-formed", "the closing tag of ClinicalDocument is misspelt", "xml", "INVALID_CONTENT",
                bytes=_not_well_formed),
    InvalidRule("kind-mismatch", "request kind names another kind than the document's templateId/code", "kind",
                "VALIDATION_ERROR", request=_kind_mismatch),
    InvalidRule("xsd-element-order", "title written before code in the header (cvc-complex-type.2.4.a)", "xsd",
                "VALIDATION_ERROR", tree=_swap_title_code),
    InvalidRule("xsd-unknown-element", "an element the CDA schema does not allow after title", "xsd",
                "VALIDATION_ERROR", tree=_unknown_element),
    InvalidRule("snils-checksum", "patient SNILS with wrong check digits (document and request agree)", "header",
                "VALIDATION_ERROR", tree=_snils_checksum_tree, request=_snils_checksum_request),
    InvalidRule("effective-time-seconds", "effectiveTime with seconds, which kind 119 forbids (У1-15)",
                "schematron", "VALIDATION_ERROR", tree=_effective_time_seconds, request=_effective_time_seconds_request,
                kinds=("119",)),
    InvalidRule("effective-time-no-zone", "effectiveTime to the minute without a time zone (Core03-1)",
                "schematron", "VALIDATION_ERROR", tree=_effective_time_no_zone, also=("header", "xsd")),
    InvalidRule("missing-information-recipient", "no informationRecipient (Минздрав) in the header (Main05-1)",
                "schematron", "VALIDATION_ERROR", tree=_drop("v3:informationRecipient"), also=("header", "xsd")),
    InvalidRule("setid-equals-id", "setId/@root equal to id/@root (Main01-10)", "schematron", "VALIDATION_ERROR",
                tree=_setid_equals_id, also=("header", "xsd")),
    InvalidRule("author-time-value", "author/time with a value instead of nullFlavor NI", "schematron",
                "VALIDATION_ERROR", tree=_author_time_value, also=("header", "xsd")),
    InvalidRule("nsi-display-name", "administrativeGenderCode displayName does not match NSI 1040", "nsi",
                "INVALID_ELEMENT_VALUE_NAME", tree=_gender_display),
    InvalidRule("local-uid-mismatch", "request localUid differs from ClinicalDocument/id/@extension", "cross",
                "VALIDATION_ERROR", request=_local_uid_mismatch),
    InvalidRule("patient-snils-mismatch", "request patient SNILS (valid) differs from the document's", "cross",
                "VALIDATION_ERROR", request=_patient_snils_mismatch),
    InvalidRule("patient-family-mismatch", "request patient surname differs from the document's", "cross",
                "VALIDATION_ERROR", request=_patient_family_mismatch),
    InvalidRule("creation-date-mismatch", "request creationDateTime three days before effectiveTime", "cross",
                "VALIDATION_ERROR", request=_creation_date_mismatch),
    InvalidRule("doctor-snils-mismatch", "signing doctor's SNILS in the request differs from the legal authenticator "
                "(and from the signing certificate)", "cross", "LEGAL_AUTHENTICATOR_NOT_FOUND",
                request=_doctor_snils_mismatch, also=("signatures",)),
    InvalidRule("missing-org-signature", "no orgSignature although the kind requires one (MO_SIGN)", "signatures",
                "ORG_SIGNATURE_OCCURRENCE_MISMATCH", request=_drop_org_signature),
    InvalidRule("bad-signature-digest", "personal and org signatures carry a messageDigest of another content",
                "signatures", "DIGEST_MISMATCH", signer=_wrong_digest_signer),
]

#: every rule by name, in the order ``--list-invalid`` prints them
RULES: dict[str, InvalidRule] = {r.name: r for r in _LIST}

#: the descriptions in Russian, the language ``--list-invalid`` speaks by default
DESCRIPTIONS_RU: dict[str, str] = {
    "not-well-formed": "закрывающий тег ClinicalDocument написан с ошибкой",
    "kind-mismatch": "вид в запросе не тот, что у templateId/code документа",
    "xsd-element-order": "title записан раньше code в заголовке (cvc-complex-type.2.4.a)",
    "xsd-unknown-element": "после title — элемент, которого схема CDA не допускает",
    "snils-checksum": "СНИЛС пациента с неверным контрольным числом (в документе и в запросе одинаковый)",
    "effective-time-seconds": "effectiveTime с секундами, что вид 119 запрещает (У1-15)",
    "effective-time-no-zone": "effectiveTime с точностью до минуты без часового пояса (Core03-1)",
    "missing-information-recipient": "в заголовке нет informationRecipient (Минздрав) (Main05-1)",
    "setid-equals-id": "setId/@root совпадает с id/@root (Main01-10)",
    "author-time-value": "author/time со значением вместо nullFlavor NI",
    "nsi-display-name": "displayName у administrativeGenderCode не совпадает с НСИ 1040",
    "local-uid-mismatch": "localUid в запросе не совпадает с ClinicalDocument/id/@extension",
    "patient-snils-mismatch": "СНИЛС пациента в запросе (верный) не тот, что в документе",
    "patient-family-mismatch": "фамилия пациента в запросе не та, что в документе",
    "creation-date-mismatch": "creationDateTime в запросе на три дня раньше effectiveTime",
    "doctor-snils-mismatch": "СНИЛС подписавшего врача в запросе не совпадает с legalAuthenticator "
                             "(и с сертификатом подписи)",
    "missing-org-signature": "нет orgSignature, хотя вид её требует (MO_SIGN)",
    "bad-signature-digest": "в подписях врача и организации messageDigest другого содержимого",
}


def describe(rule: InvalidRule, lang: str) -> str:
    """The rule's description in ``lang`` (``ru`` or ``en``)."""
    return DESCRIPTIONS_RU.get(rule.name, rule.description) if lang == "ru" else rule.description


def rule(name: str) -> InvalidRule:
    """The rule called ``name``; ``KeyError`` lists the known names."""
    try:
        return RULES[name]
    except KeyError:
        raise KeyError(f"unknown invalid rule {name!r}; known: {', '.join(RULES)}") from None
