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
from dataclasses import dataclass

from asn1crypto import cms, core, parser, x509

from mock_remd.validation.signatures import oids

_WS = re.compile(rb"\s+")
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
    certificate: x509.Certificate
    certificates: list[x509.Certificate]
    digest_oid: str
    signature_oid: str
    message_digest: bytes | None
    signing_time: dt.datetime | None
    #: signed attributes re-tagged as a universal SET (what the signature covers); None without attributes
    signed_attrs_der: bytes | None
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
        raise SignatureProblem("SIGNATURE_DECODING_ERROR", f"данные подписи не являются корректной строкой base64 ({exc})") from exc


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
    except (ValueError, TypeError, OverflowError) as exc:
        raise SignatureProblem("SIGNATURE_DECODING_ERROR", f"данные подписи не являются корректной структурой ASN.1 DER ({exc})") from exc


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
            raise ValueError(f"после структуры ASN.1 остались лишние данные ({len(data) - pointer} байт)")


def _signer_certificate(sid: cms.SignerIdentifier, certs: list[x509.Certificate]) -> x509.Certificate | None:
    if sid.name == "issuer_and_serial_number":
        issuer = sid.chosen["issuer"]
        serial = sid.chosen["serial_number"].native
        issuer_der = issuer.dump()
        same_serial = [c for c in certs if c.serial_number == serial]
        for cert in same_serial:  # byte-equal names first: the usual case, and cheap
            if cert.issuer.dump() == issuer_der:
                return cert
        for cert in same_serial:  # then the RFC 5280 comparison (case, spaces, string types)
            if cert.issuer == issuer:
                return cert
    else:
        key_id = sid.chosen.native
        for cert in certs:
            if cert.key_identifier == key_id:
                return cert
    return None


def _attribute(signer: cms.SignerInfo, name: str) -> core.Asn1Value | None:
    attrs = signer["signed_attrs"]
    if not attrs:
        return None
    for attr in attrs:
        if attr["type"].native == name:
            values = attr["values"]
            return values[0] if len(values) else None
    return None


def inspect_signature(data_b64: str | bytes) -> InspectedSignature:
    """Decode and take apart one signature; raises :class:`SignatureProblem` on a structural fault."""
    der = decode_base64(data_b64)
    value = _load_der(der)
    if not isinstance(value, core.Sequence) or len(value) < 1:
        raise SignatureProblem("WRONG_SIGNATURE_FORMAT", "подпись не является контейнером CMS (ContentInfo)")
    try:
        info = cms.ContentInfo.load(der)
        content_type = info["content_type"].dotted
    except (ValueError, TypeError) as exc:
        raise SignatureProblem("WRONG_SIGNATURE_FORMAT", "подпись не является контейнером CMS (ContentInfo)") from exc
    if content_type != "1.2.840.113549.1.7.2":
        raise SignatureProblem("WRONG_SIGNATURE_FORMAT", f"тип содержимого CMS [{content_type}] не является SignedData")
    try:
        return _take_apart(info, der)
    except (ValueError, TypeError, KeyError) as exc:
        raise SignatureProblem("SIGNATURE_DECODING_ERROR", f"структура SignedData повреждена ({exc})") from exc


def _take_apart(info: cms.ContentInfo, der: bytes) -> InspectedSignature:
    signed = info["content"]
    encap = signed["encap_content_info"]
    signers = list(signed["signer_infos"])
    certs = [c.chosen for c in (signed["certificates"] or []) if c.name == "certificate"]
    if encap["content"].native is not None:
        raise SignatureProblem(
            "WRONG_SIGNATURE_FORMAT",
            "подпись присоединённая (документ вложен в CMS), требуется открепленная подпись CAdES-BES",
        )
    if not signers:
        raise SignatureProblem("WRONG_SIGNATURE_FORMAT", "в контейнере CMS нет ни одного подписанта (SignerInfo)")
    if len(signers) > 1:
        raise SignatureProblem("MULTIPLE_SIGNERS", f"в контейнере ЭП указано {len(signers)} подписанта, допускается один")
    signer = signers[0]
    if not certs:
        raise SignatureProblem("NO_END_ENTITY_CERTIFICATE", "в контейнере ЭП нет ни одного сертификата")
    cert = _signer_certificate(signer["sid"], certs)
    if cert is None:
        raise SignatureProblem(
            "NO_END_ENTITY_CERTIFICATE", "сертификат подписанта (по SignerIdentifier) не найден среди сертификатов контейнера"
        )
    md = _attribute(signer, "message_digest")
    st = _attribute(signer, "signing_time")
    attrs = signer["signed_attrs"]
    attrs_der = None
    if attrs:
        attrs_der = b"\x31" + attrs.dump()[1:]  # [0] IMPLICIT → universal SET OF, bytes as received
    return InspectedSignature(
        der=der,
        signer=signer,
        certificate=cert,
        certificates=certs,
        digest_oid=signer["digest_algorithm"]["algorithm"].dotted,
        signature_oid=signer["signature_algorithm"]["algorithm"].dotted,
        message_digest=md.native if md is not None else None,
        signing_time=st.native if st is not None else None,
        signed_attrs_der=attrs_der,
        signature=signer["signature"].native,
    )


def algorithm_problem(sig: InspectedSignature) -> str | None:
    """Why the algorithms are not GOST R 34.10/34.11-2012 (or do not fit together); None when they are."""
    digest_bits = oids.DIGEST_BITS.get(sig.digest_oid)
    if digest_bits is None:
        return f"алгоритм хеширования [{sig.digest_oid}] не является ГОСТ Р 34.11-2012"
    sig_bits = oids.SIGNATURE_BITS.get(sig.signature_oid)
    if sig_bits is None:
        return f"алгоритм подписи [{sig.signature_oid}] не является ГОСТ Р 34.10-2012"
    key_oid = sig.certificate.public_key["algorithm"]["algorithm"].dotted
    key_bits = oids.SIGNATURE_BITS.get(key_oid) if key_oid in oids.KEY_NAMES else None
    if key_bits is None:
        return f"алгоритм ключа сертификата [{key_oid}] не является ГОСТ Р 34.10-2012"
    if not digest_bits == sig_bits == key_bits:
        return (
            f"длины алгоритмов не согласованы: хеш {digest_bits} бит, подпись {sig_bits} бит, ключ {key_bits} бит"
        )
    return None
