"""Decode and inspect one detached CMS signature the way the registry does before any cryptography.

:func:`inspect_signature` turns the base64 text of ``signature/data`` into an :class:`InspectedSignature`
or raises :class:`SignatureProblem` with the registry code (``SIGNATURE_DECODING_ERROR``,
``WRONG_SIGNATURE_FORMAT``, ``MULTIPLE_SIGNERS``, ``NO_END_ENTITY_CERTIFICATE``).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from asn1crypto import cms, core, parser, x509

from mock_remd.validation.signatures import certs, names, oids

_T = TypeVar("_T")

_WS = re.compile(rb"\s+")
_NOT_BASE64 = re.compile(rb"[^A-Za-z0-9+/=]")
_TLV_DEPTH = 5


class SignatureProblem(Exception):
    """A signature the registry rejects before checking its content: ``code`` + Russian ``detail``."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail


@dataclass
class InspectedSignature:
    """The parts of a detached CMS the checks need."""

    der: bytes
    signer: cms.SignerInfo
    #: the signer's certificate (asn1crypto, for callers that want it) and what was read from it
    certificate: x509.Certificate
    cert: certs.CertInfo
    #: every readable certificate of the container (the signer's, its chain, unrelated extras)
    certificates: list[certs.CertInfo]
    digest_oid: str
    signature_oid: str
    message_digest: bytes | None
    signing_time: dt.datetime | None
    #: signed attributes re-tagged as a universal SET (what the signature covers); None without attributes
    signed_attrs_der: bytes | None
    #: their DER re-encoding when the sender's encoding differs (BER lengths, unsorted SET); else None
    signed_attrs_der_canonical: bytes | None
    signature: bytes


def decode_base64(text: str | bytes) -> bytes:
    """Strict base64 (whitespace and line breaks allowed) or ``SIGNATURE_DECODING_ERROR``."""
    raw = text.encode("ascii", "replace") if isinstance(text, str) else text
    raw = _WS.sub(b"", raw)
    if not raw:
        raise SignatureProblem("SIGNATURE_DECODING_ERROR", "данные подписи пусты")
    try:
        return base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError) as exc:
        bad = _NOT_BASE64.search(raw)
        why = (
            f"недопустимый символ «{bad.group().decode('latin-1')}» в позиции {bad.start() + 1}"
            if bad else "неверная длина или дополнение «=»"
        )
        raise SignatureProblem("SIGNATURE_DECODING_ERROR", f"данные подписи не являются корректной строкой base64 ({why})") from exc


def _load_der(der: bytes) -> core.Asn1Value:
    if der.lstrip().startswith(b"-----BEGIN"):
        raise SignatureProblem(
            "SIGNATURE_DECODING_ERROR", "передан PEM-текст вместо DER: в signature/data ожидается base64 от DER"
        )
    if re.fullmatch(rb"[A-Za-z0-9+/=\s]{16,}", der):
        raise SignatureProblem(
            "SIGNATURE_DECODING_ERROR", "после декодирования base64 получен снова текст base64 (подпись закодирована дважды)"
        )
    try:
        _check_tlv(der, strict=True)
        return core.load(der, strict=True)
    except SignatureProblem:
        raise
    except (ValueError, TypeError, OverflowError) as exc:
        raise SignatureProblem(
            "SIGNATURE_DECODING_ERROR",
            "данные подписи не являются корректной структурой ASN.1 (BER/DER): тег или длина элемента повреждены",
        ) from exc


def _check_tlv(data: bytes, strict: bool = False, depth: int = 0) -> None:
    """Walk the upper levels of the tag-length-value tree (the CMS frame down to each certificate and
    SignerInfo) so a broken length there is a decoding error; deeper faults surface on access."""
    pointer = 0
    while pointer < len(data):
        _cls, method, _tag, header, contents, trailer = parser.parse(data[pointer:])
        if method == 1 and depth < _TLV_DEPTH:
            _check_tlv(contents, depth=depth + 1)
        pointer += len(header) + len(contents) + len(trailer)
        if strict and pointer != len(data):
            raise SignatureProblem(
                "SIGNATURE_DECODING_ERROR", f"после структуры ASN.1 остались лишние данные ({len(data) - pointer} байт)"
            )


def _read(what: str, read: Callable[[], _T]) -> _T:
    """Run one read of the (lazily parsed) CMS; an ASN.1 fault becomes SIGNATURE_DECODING_ERROR naming ``what``."""
    try:
        return read()
    except SignatureProblem:
        raise
    except certs.CertificateUnreadable as exc:
        raise SignatureProblem("SIGNATURE_DECODING_ERROR", f"не прочитан {what}: {exc.what}") from exc
    except certs.PARSE_ERRORS as exc:
        raise SignatureProblem("SIGNATURE_DECODING_ERROR", f"не прочитан {what}") from exc


def _certificates(signed: cms.SignedData) -> tuple[list[certs.CertInfo], list[tuple[int, str]]]:
    """The readable X.509 certificates of the container, and (number, what) for those that cannot be read."""
    found: list[certs.CertInfo] = []
    broken: list[tuple[int, str]] = []
    choices = _read("список сертификатов контейнера (certificates)", lambda: list(signed["certificates"] or []))
    for number, choice in enumerate(choices, 1):
        try:
            if choice.name != "certificate":
                continue  # attribute certificates and "other" formats are not signer certificates
            found.append(certs.read_certificate(choice.chosen.dump()))
        except certs.CertificateUnreadable as exc:
            broken.append((number, exc.what))
        except certs.PARSE_ERRORS:
            broken.append((number, "структура сертификата"))
    return found, broken


def _signer_certificate(sid: cms.SignerIdentifier, found: list[certs.CertInfo]) -> certs.CertInfo | None:
    if sid.name == "issuer_and_serial_number":
        issuer = names.read_name(sid.chosen["issuer"].dump())
        serial = int(sid.chosen["serial_number"].native)
        same_serial = [c for c in found if c.serial == serial]
        for cert in same_serial:  # byte-equal names first: the usual case, and cheap
            if cert.issuer.der == issuer.der:
                return cert
        for cert in same_serial:  # then the RFC 5280 comparison (case, spaces, string types)
            if cert.issuer.same_as(issuer):
                return cert
        return None
    key_id = sid.chosen.native
    return next((c for c in found if c.key_id is not None and c.key_id == key_id), None)


def _attribute_values(signer: cms.SignerInfo) -> dict[str, core.Asn1Value]:
    """First value of each signed attribute by dotted type (attributes never read stay unparsed)."""
    attrs = signer["signed_attrs"]
    found: dict[str, core.Asn1Value] = {}
    if not attrs:
        return found
    for attr in attrs:
        values = attr["values"]
        found.setdefault(attr["type"].dotted, values[0] if len(values) else None)
    return found


def _signing_time(value: core.Asn1Value | None) -> dt.datetime | None:
    if value is None:
        return None
    moment = value.native
    if not isinstance(moment, dt.datetime):
        raise ValueError("signingTime is not a date")
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _canonical_attrs(received: bytes) -> bytes:
    """DER of the signed attributes as RFC 5652 §5.4 says the signature covers (sorted SET, definite lengths)."""
    return cms.CMSAttributes.load(received).dump(force=True)


def inspect_signature(data_b64: str | bytes) -> InspectedSignature:
    """Decode and take apart one signature; raises :class:`SignatureProblem` on a structural fault."""
    der = decode_base64(data_b64)
    value = _load_der(der)
    if not isinstance(value, core.Sequence) or len(value) < 1:
        raise SignatureProblem("WRONG_SIGNATURE_FORMAT", "подпись не является контейнером CMS (ContentInfo)")
    try:
        info = cms.ContentInfo.load(der)
        content_type = info["content_type"].dotted
    except certs.PARSE_ERRORS as exc:
        raise SignatureProblem("WRONG_SIGNATURE_FORMAT", "подпись не является контейнером CMS (ContentInfo)") from exc
    if content_type != oids.SIGNED_DATA:
        raise SignatureProblem("WRONG_SIGNATURE_FORMAT", f"тип содержимого CMS [{content_type}] не является SignedData")
    return _take_apart(info, der)


def _take_apart(info: cms.ContentInfo, der: bytes) -> InspectedSignature:
    signed = _read("контейнер SignedData", lambda: info["content"])
    encap = _read("блок encapContentInfo", lambda: signed["encap_content_info"])
    attached = _read("блок encapContentInfo", lambda: not isinstance(encap["content"], core.Void))
    signers = _read("список подписантов (signerInfos)", lambda: list(signed["signer_infos"]))
    found, broken = _certificates(signed)
    if attached:
        raise SignatureProblem(
            "WRONG_SIGNATURE_FORMAT",
            "подпись присоединённая (документ вложен в CMS), требуется открепленная подпись CAdES-BES",
        )
    if not signers:
        raise SignatureProblem("WRONG_SIGNATURE_FORMAT", "в контейнере CMS нет ни одного подписанта (SignerInfo)")
    if len(signers) > 1:
        raise SignatureProblem("MULTIPLE_SIGNERS", f"в контейнере ЭП указано {len(signers)} подписанта, допускается один")
    signer = signers[0]
    if not found and not broken:
        raise SignatureProblem("NO_END_ENTITY_CERTIFICATE", "в контейнере ЭП нет ни одного сертификата")
    cert = _read("идентификатор подписанта (sid)", lambda: _signer_certificate(signer["sid"], found))
    if cert is None:
        if broken:
            number, what = broken[0]
            raise SignatureProblem(
                "SIGNATURE_DECODING_ERROR", f"не прочитан сертификат №{number} из контейнера ЭП: {what}"
            )
        raise SignatureProblem(
            "NO_END_ENTITY_CERTIFICATE", "сертификат подписанта (по SignerIdentifier) не найден среди сертификатов контейнера"
        )
    attrs = _read("набор подписанных атрибутов (signedAttrs)", lambda: _attribute_values(signer))
    md = _read("подписанный атрибут messageDigest", lambda: attrs[oids.MESSAGE_DIGEST].native if attrs.get(oids.MESSAGE_DIGEST) is not None else None)
    if md is not None and not isinstance(md, bytes):
        raise SignatureProblem("SIGNATURE_DECODING_ERROR", "не прочитан подписанный атрибут messageDigest")
    signing_time = _read("подписанный атрибут signingTime", lambda: _signing_time(attrs.get(oids.SIGNING_TIME)))
    attrs_der = canonical = None
    if attrs:
        received = _read("набор подписанных атрибутов (signedAttrs)", lambda: signer["signed_attrs"].dump())
        attrs_der = b"\x31" + received[1:]  # [0] IMPLICIT → universal SET OF, bytes as received
        canonical = _read("набор подписанных атрибутов (signedAttrs)", lambda: _canonical_attrs(attrs_der))
    return InspectedSignature(
        der=der,
        signer=signer,
        certificate=x509.Certificate.load(cert.der),
        cert=cert,
        certificates=found,
        digest_oid=_read("алгоритм хеширования подписанта", lambda: signer["digest_algorithm"]["algorithm"].dotted),
        signature_oid=_read("алгоритм подписи подписанта", lambda: signer["signature_algorithm"]["algorithm"].dotted),
        message_digest=md,
        signing_time=signing_time,
        signed_attrs_der=attrs_der,
        signed_attrs_der_canonical=canonical if canonical != attrs_der else None,
        signature=_read("значение подписи (signature)", lambda: bytes(signer["signature"].native)),
    )


def algorithm_problem(sig: InspectedSignature) -> str | None:
    """Why the algorithms are not GOST R 34.10/34.11-2012 (or do not fit together); None when they are."""
    digest_bits = oids.DIGEST_BITS.get(sig.digest_oid)
    if digest_bits is None:
        return f"алгоритм хеширования [{sig.digest_oid}] не является ГОСТ Р 34.11-2012"
    sig_bits = oids.SIGNATURE_BITS.get(sig.signature_oid)
    if sig_bits is None:
        return f"алгоритм подписи [{sig.signature_oid}] не является ГОСТ Р 34.10-2012"
    key_oid = sig.cert.key_algorithm
    key_bits = oids.SIGNATURE_BITS.get(key_oid) if key_oid in oids.KEY_NAMES else None
    if key_bits is None:
        return f"алгоритм ключа сертификата [{key_oid}] не является ГОСТ Р 34.10-2012"
    if not digest_bits == sig_bits == key_bits:
        return (
            f"длины алгоритмов не согласованы: хеш {digest_bits} бит, подпись {sig_bits} бит, ключ {key_bits} бит"
        )
    return None
