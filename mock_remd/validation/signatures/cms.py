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
from functools import cached_property, lru_cache

import pybase64
from asn1crypto import cms, core, x509

from mock_remd.catalog.findings import FINDINGS
from mock_remd.catalog.findings import text as finding_text
from mock_remd.gost import certs, memo, names, oids, tlv

#: what may separate base64 lines: the ASCII whitespace of ``\s`` in a bytes pattern
_WS_BYTES = b" \t\n\r\x0b\x0c"
_NOT_BASE64 = re.compile(rb"[^A-Za-z0-9+/=]")
_BASE64_TEXT = re.compile(rb"[A-Za-z0-9+/=\s]{16,}")
_TLV_DEPTH = 5
#: the walk's depth of SignedData (ContentInfo 1, its [0] 2): its [0] child is the certificates field
_SIGNED_DATA_DEPTH = 3
#: a SignedData part larger than this (an attached document) is walked each time, never remembered
_SHARED_PART_MAX = 32 * 1024


# the parts a reading fault names, bound once: the readers set one per step on every signature
_PART_SIGNED_DATA = FINDINGS["cms.part.signed_data"]
_PART_SIGNER_INFO = FINDINGS["cms.part.signer_info"]
_PART_SID = FINDINGS["cms.part.sid"]
_PART_SIGNED_ATTRS = FINDINGS["cms.part.signed_attrs"]
_PART_MESSAGE_DIGEST = FINDINGS["cms.part.message_digest"]
_PART_SIGNING_TIME = FINDINGS["cms.part.signing_time"]
_PART_DIGEST_ALGORITHM = FINDINGS["cms.part.digest_algorithm"]
_PART_SIGNATURE_ALGORITHM = FINDINGS["cms.part.signature_algorithm"]
_PART_SIGNATURE = FINDINGS["cms.part.signature"]


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
    #: the SignerInfo as received (parsed by asn1crypto only when :attr:`signer` is read)
    signer_der: bytes
    #: what was read from the signer's certificate (:attr:`certificate` parses it with asn1crypto)
    cert: certs.CertInfo
    #: every readable certificate of the container (the signer's, its chain, unrelated extras)
    certificates: list[certs.CertInfo]
    digest_oid: str
    signature_oid: str
    message_digest: bytes | None
    signing_time: dt.datetime | None
    #: signed attributes re-tagged as a universal SET (what the signature covers); None without attributes
    signed_attrs_der: bytes | None
    signature: bytes

    @cached_property
    def signer(self) -> cms.SignerInfo:
        """The SignerInfo parsed by asn1crypto (for callers that want it; the checks read the bytes)."""
        return cms.SignerInfo.load(self.signer_der)

    @cached_property
    def certificate(self) -> x509.Certificate:
        """The signer's certificate parsed by asn1crypto (for callers that want it)."""
        return x509.Certificate.load(self.cert.der)

    @cached_property
    def signed_attrs_der_canonical(self) -> bytes | None:
        """The signed attributes re-encoded in DER when the sender's encoding differs (BER lengths,
        unsorted SET); None otherwise. Computed only when the received bytes do not verify."""
        if self.signed_attrs_der is None:
            return None
        canonical = _canonical_attrs(self.signed_attrs_der)
        return canonical if canonical != self.signed_attrs_der else None


def decode_base64(text: str | bytes) -> bytes:
    """Strict base64 (whitespace and line breaks allowed) or ``SIGNATURE_DECODING_ERROR``."""
    raw = text.encode("ascii", "replace") if isinstance(text, str) else text
    if raw:
        try:
            # one SIMD pass for the usual text (no line breaks; ~5 against ~55 k instructions for a
            # signature with binascii): what pybase64's validating decoder accepts (alphabet characters,
            # "=" padding only where it completes the last quantum) the path below accepts too and
            # decodes to the same bytes (tests compare); anything else (whitespace included) takes that path
            return pybase64.b64decode(raw, validate=True)
        except (binascii.Error, ValueError):
            pass
    raw = raw.translate(None, _WS_BYTES)  # a C loop (a regex substitution cost 35 us per signature)
    if not raw:
        raise SignatureProblem("SIGNATURE_DECODING_ERROR", finding_text("cms.empty"))
    try:
        return base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError) as exc:
        bad = _NOT_BASE64.search(raw)
        why = (
            finding_text("cms.bad_char", char=bad.group().decode("latin-1"), position=bad.start() + 1)
            if bad else finding_text("cms.bad_padding")
        )
        raise SignatureProblem("SIGNATURE_DECODING_ERROR", finding_text("cms.not_base64", why=why)) from exc


@lru_cache(maxsize=512)
def _dotted(oid_der: bytes) -> str:
    """The dotted form of one encoded OBJECT IDENTIFIER. Every signature carries the same few OIDs
    (attribute types, GOST algorithms), and asn1crypto's decoding of one costs ~10 us; a fault raises
    (and is not remembered)."""
    return str(core.ObjectIdentifier.load(oid_der).dotted)


@lru_cache(maxsize=512)
def _algorithm_oid(algorithm_der: bytes) -> str:
    """The dotted ``algorithm`` of one encoded AlgorithmIdentifier (the same few in every signature)."""
    return str(oids.AlgorithmIdentifier.load(algorithm_der)["algorithm"].dotted)


class _Tree:
    """The TLV elements of one signature split once: the structure check walks the upper levels and
    the readers below take the same children from here instead of splitting them again. Elements are
    found by identity (the objects the walk made), not by their bytes: hashing the nested elements
    of a signature (each of ContentInfo, [0] and SignedData is nearly all of it) cost more than
    splitting them."""

    def __init__(self) -> None:
        #: id(element) -> (element, its children); the element is kept, so its id stays its own
        self._children: dict[int, tuple[bytes, list[bytes]]] = {}

    def children(self, element: bytes) -> list[bytes]:
        """:func:`~mock_remd.gost.tlv.children` of ``element``, split at most once."""
        found = self._children.get(id(element))
        if found is not None and found[0] is element:
            return found[1]
        kids = tlv.children(element)
        self._children[id(element)] = (element, kids)
        return kids

    def check(self, der: bytes) -> None:
        """Walk the upper levels of the tag-length-value tree (the CMS frame down to each certificate
        and SignerInfo) so a broken length there is a decoding error; deeper faults surface on access.
        Bytes after the first element are refused."""
        if not der:
            return
        contents, end = tlv.first(der)
        if der[0] & 0x20:  # constructed
            self._descend(der[:end], contents, 1)
        if end != len(der):
            raise SignatureProblem(
                "SIGNATURE_DECODING_ERROR", finding_text("cms.trailing_bytes", count=len(der) - end)
            )

    def _descend(self, element: bytes, contents: bytes, depth: int) -> None:
        if depth >= _TLV_DEPTH:
            self._children[id(element)] = (element, tlv.split(contents))
            return
        parts = tlv.split_parts(contents)  # each kid parsed once: its contents come with it
        kids = [kid for kid, _ in parts]
        self._children[id(element)] = (element, kids)
        # SignedData's parts but the last (signerInfos): what every signature by one signer repeats
        shared = len(parts) - 1 if depth == _SIGNED_DATA_DEPTH else 0
        for index, (kid, kid_contents) in enumerate(parts):
            if not kid[0] & 0x20:  # primitive
                continue
            if index < shared and len(kid) <= _SHARED_PART_MAX:
                remembered, walked = _shared_part_walk(kid)
                kids[index] = remembered  # the same bytes, the object its walk is found by
                self._children.update(walked)
            else:
                self._descend(kid, kid_contents, depth + 1)


@lru_cache(maxsize=256)
def _shared_part_walk(element: bytes) -> tuple[bytes, dict[int, tuple[bytes, list[bytes]]]]:
    """The structure walk of one SignedData part that every signature by the same signer repeats
    (digestAlgorithms, a detached encapContentInfo, the certificates and CRLs), by the part's bytes:
    ``element`` as first seen (the walk finds its elements by identity) and what :meth:`_Tree._descend`
    finds there. A MIS signs every document with the same few certificates, so each is split once; a
    fault raises every time (nothing is remembered of it). Callers only read the lists."""
    tree = _Tree()
    tree._descend(element, tlv.contents(element), _SIGNED_DATA_DEPTH + 1)
    return element, tree._children


def _is_sequence(der: bytes, tree: _Tree) -> bool:
    """Whether ``der`` is one well-formed, non-empty ASN.1 SEQUENCE (after the structure walk);
    SIGNATURE_DECODING_ERROR when it is not ASN.1 at all."""
    if der.lstrip().startswith(b"-----BEGIN"):
        raise SignatureProblem(
            "SIGNATURE_DECODING_ERROR", finding_text("cms.pem")
        )
    if _BASE64_TEXT.fullmatch(der):
        raise SignatureProblem(
            "SIGNATURE_DECODING_ERROR", finding_text("cms.double_base64")
        )
    try:
        tree.check(der)
        if der[:1] == b"\x30":
            # a universal constructed SEQUENCE the walk has just split: what asn1crypto's core.load
            # makes of it is a generic Sequence holding the same children (not built until read)
            return bool(tree.children(der))
        value = core.load(der, strict=True)
    except SignatureProblem:
        raise
    except (ValueError, TypeError, OverflowError) as exc:
        raise SignatureProblem(
            "SIGNATURE_DECODING_ERROR",
            finding_text("cms.not_asn1"),
        ) from exc
    if not isinstance(value, core.Sequence):
        return False
    try:
        return len(value) >= 1
    except certs.PARSE_ERRORS:  # a SET (asn1crypto's Set is a Sequence) whose members it cannot take
        return False


def _unread(what: str, exc: Exception) -> SignatureProblem:
    """SIGNATURE_DECODING_ERROR naming ``what`` for an ASN.1 fault met while reading it from the (lazily
    parsed) CMS. The readers below catch :data:`~mock_remd.gost.certs.PARSE_ERRORS` around exactly what
    they read (a try block costs nothing until it raises; a wrapper and a lambda a read cost ~2.5 k
    instructions each)."""
    if isinstance(exc, certs.CertificateUnreadable):
        return SignatureProblem("SIGNATURE_DECODING_ERROR", finding_text("cms.unread_because", what=what, reason=exc.what))
    return SignatureProblem("SIGNATURE_DECODING_ERROR", finding_text("cms.unread", what=what))


@dataclass
class _SignedDataParts:
    """The TLV encodings of the SignedData parts the checks use (nothing re-encoded)."""

    attached: bool
    certificates: list[bytes]
    signer_infos: list[bytes]


def _signed_data(der: bytes, tree: _Tree) -> _SignedDataParts:
    content_info = tree.children(der)
    if len(content_info) < 2 or tlv.identifier(content_info[1]) != 0xA0:
        raise ValueError("ContentInfo without content")
    signed = tree.children(tree.children(content_info[1])[0])
    if len(signed) < 4 or tlv.identifier(signed[-1]) != 0x31:
        raise ValueError("SignedData is incomplete")
    encap = tree.children(signed[2])
    attached = len(encap) > 1 and bool(core.OctetString.load(tree.children(encap[1])[0]).native)
    certificates: list[bytes] = []
    for part in signed[3:-1]:
        if tlv.identifier(part) == 0xA0:  # [0] certificates; [1] would be CRLs
            certificates = tree.children(part)
    return _SignedDataParts(attached, certificates, tree.children(signed[-1]))


def _certificates(raw: list[bytes]) -> tuple[list[certs.CertInfo], list[tuple[int, str]]]:
    """The readable X.509 certificates of the container, and (number, what) for those that cannot be read."""
    found: list[certs.CertInfo] = []
    broken: list[tuple[int, str]] = []
    for number, element in enumerate(raw, 1):
        if tlv.identifier(element) != 0x30:
            continue  # attribute certificates and "other" formats ([1]..[3]) are not signer certificates
        try:
            found.append(certs.read_certificate(element))
        except certs.CertificateUnreadable as exc:
            broken.append((number, exc.what))
    return found, broken


@dataclass
class _SignerParts:
    sid: bytes
    digest_algorithm: bytes
    signed_attrs: bytes | None
    signature_algorithm: bytes
    signature: bytes


def _signer_parts(raw: bytes, tree: _Tree) -> _SignerParts:
    parts = tree.children(raw)
    at = 4 if len(parts) > 3 and tlv.identifier(parts[3]) == 0xA0 else 3
    if len(parts) < at + 2:
        raise ValueError("SignerInfo is incomplete")
    return _SignerParts(parts[1], parts[2], parts[3] if at == 4 else None, parts[at], parts[at + 1])


@lru_cache(maxsize=2048)
def _serial(serial_der: bytes) -> int:
    """An encoded serial number as an int (signers repeat: a MIS signs with the same few certificates);
    a fault raises (and is not remembered)."""
    return int(core.Integer.load(serial_der).native)


@dataclass(frozen=True)
class _SignerId:
    """What a SignerIdentifier names: the issuer and serial number, or the subjectKeyIdentifier."""

    issuer: names.NameInfo | None = None
    serial: int = 0
    key_id: bytes | None = None


@lru_cache(maxsize=2048)
def _signer_id(sid: bytes) -> _SignerId:
    """The SignerIdentifier read from its encoding (the same for every signature by one certificate);
    a fault raises (and is not remembered)."""
    if tlv.identifier(sid) == 0x30:  # issuerAndSerialNumber
        issuer_der, serial_der = tlv.children(sid)[:2]
        return _SignerId(issuer=names.read_name(issuer_der), serial=_serial(serial_der))
    if tlv.identifier(sid) in (0x80, 0xA0):  # [0] subjectKeyIdentifier (primitive, or BER constructed)
        return _SignerId(key_id=core.OctetString.load(bytes([0x04 | (sid[0] & 0x20)]) + sid[1:]).native)
    raise ValueError("unknown SignerIdentifier")


def _signer_certificate(sid: bytes, found: list[certs.CertInfo]) -> certs.CertInfo | None:
    signer = _signer_id(sid)
    if signer.issuer is not None:
        issuer, serial = signer.issuer, signer.serial
        same_serial = [c for c in found if c.serial == serial]
        for cert in same_serial:  # byte-equal names first: the usual case, and cheap
            if cert.issuer.der == issuer.der:
                return cert
        for cert in same_serial:  # then the RFC 5280 comparison (case, spaces, string types)
            if cert.issuer.same_as(issuer):
                return cert
        return None
    key_id = signer.key_id
    return next((c for c in found if c.key_id is not None and c.key_id == key_id), None)


#: the signed attributes whose values the checks read (they differ from document to document)
_READ_ATTRIBUTES = frozenset({oids.MESSAGE_DIGEST, oids.SIGNING_TIME})
#: signed attributes of other types already split without a fault, by their bytes: contentType is the
#: same in every signature, signingCertificateV2 in every one by a certificate
_UNREAD_ATTRIBUTES = memo.BoundedSet(1024)


def _attribute_values(attrs_der: bytes) -> dict[str, tuple[bytes, bytes] | None]:
    """The first value of each signed attribute by dotted type, as (TLV, its contents); values are
    parsed only when read, so an attribute nobody here reads (whatever its content) never stands in
    the way."""
    found: dict[str, tuple[bytes, bytes] | None] = {}
    for attribute, attribute_contents in tlv.split_parts(tlv.contents(attrs_der)):
        if attribute in _UNREAD_ATTRIBUTES:
            continue  # read whole before: its type is none of _READ_ATTRIBUTES, and it splits
        (attr_type, _), (_values, values_contents) = tlv.split_parts(attribute_contents)[:2]
        first = tlv.split_parts(values_contents)[:1]
        dotted = _dotted(attr_type)
        found.setdefault(dotted, first[0] if first else None)
        if dotted not in _READ_ATTRIBUTES:
            _UNREAD_ATTRIBUTES.add(attribute)
    return found


def _octets(element: bytes, contents: bytes | None = None) -> bytes:
    """The value of one encoded OCTET STRING (``contents``: its contents octets when already cut out):
    the contents octets when it is primitive (what asn1crypto reads then, without building its
    object), else asn1crypto's reading (BER chunks, or the fault)."""
    if element[:1] == b"\x04":
        return tlv.contents(element) if contents is None else contents
    value = core.OctetString.load(element).native
    if not isinstance(value, bytes):
        raise ValueError("not an OCTET STRING")
    return value


def _message_digest(value: tuple[bytes, bytes] | None) -> bytes | None:
    return None if value is None else _octets(*value)


#: the time types a signingTime holds (RFC 5652 §11.3), by identifier octet: read as themselves,
#: not through the CHOICE (cms.Time builds the alternative a second time); anything else goes
#: through cms.Time, which names the fault
_TIME_TYPES: dict[int, type[core.AbstractTime]] = {0x17: core.UTCTime, 0x18: core.GeneralizedTime}


def _signing_time(attribute: tuple[bytes, bytes] | None) -> dt.datetime | None:
    if attribute is None:
        return None
    value = attribute[0]
    if len(value) == 15 and value[:2] == b"\x17\x0d" and value[14] == 0x5A and value[2:14].isdigit():
        # the usual UTCTime, YYMMDDhhmmssZ, read as asn1crypto reads it (years 50-99 are 19xx;
        # tests compare): ~6 against ~60 k instructions. bytes.isdigit() is ASCII digits only, as
        # asn1crypto's \d on the latin-1 text; an impossible date raises ValueError as there
        year = int(value[2:4])
        return dt.datetime(
            year + (2000 if year < 50 else 1900), int(value[4:6]), int(value[6:8]),
            int(value[8:10]), int(value[10:12]), int(value[12:14]), tzinfo=dt.UTC,
        )
    moment = (_TIME_TYPES.get(value[0], cms.Time) if value else cms.Time).load(value).native
    if not isinstance(moment, dt.datetime):
        raise ValueError("signingTime is not a date")
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _canonical_attrs(received: bytes) -> bytes | None:
    """DER of the signed attributes as RFC 5652 §5.4 says the signature covers (sorted SET, definite
    lengths); None when asn1crypto cannot re-encode them (the received bytes are then all there is)."""
    try:
        return cms.CMSAttributes.load(received).dump(force=True)
    except certs.PARSE_ERRORS:
        return None


def inspect_signature(data_b64: str | bytes) -> InspectedSignature:
    """Decode and take apart one signature; raises :class:`SignatureProblem` on a structural fault."""
    der = decode_base64(data_b64)
    tree = _Tree()
    if not _is_sequence(der, tree):
        raise SignatureProblem("WRONG_SIGNATURE_FORMAT", finding_text("cms.not_content_info"))
    try:
        content_type = _dotted(tree.children(der)[0])
    except (*certs.PARSE_ERRORS, IndexError) as exc:
        raise SignatureProblem("WRONG_SIGNATURE_FORMAT", finding_text("cms.not_content_info")) from exc
    if content_type != oids.SIGNED_DATA:
        raise SignatureProblem("WRONG_SIGNATURE_FORMAT", finding_text("cms.not_signed_data", content_type=content_type))
    return _take_apart(der, tree)


def _take_apart(der: bytes, tree: _Tree) -> InspectedSignature:
    try:
        parts = _signed_data(der, tree)
    except certs.PARSE_ERRORS as exc:
        raise _unread(_PART_SIGNED_DATA, exc) from exc
    if parts.attached:
        raise SignatureProblem(
            "WRONG_SIGNATURE_FORMAT",
            finding_text("cms.attached"),
        )
    if not parts.signer_infos:
        raise SignatureProblem("WRONG_SIGNATURE_FORMAT", finding_text("cms.no_signer"))
    if len(parts.signer_infos) > 1:
        raise SignatureProblem(
            "MULTIPLE_SIGNERS", finding_text("cms.many_signers", count=len(parts.signer_infos))
        )
    found, broken = _certificates(parts.certificates)
    if not found and not broken:
        raise SignatureProblem("NO_END_ENTITY_CERTIFICATE", finding_text("cms.no_certificate"))
    what = _PART_SIGNER_INFO
    try:
        signer = _signer_parts(parts.signer_infos[0], tree)
        what = _PART_SID
        cert = _signer_certificate(signer.sid, found)
    except certs.PARSE_ERRORS as exc:
        raise _unread(what, exc) from exc
    if cert is None:
        if broken:
            number, broken_part = broken[0]
            raise SignatureProblem(
                "SIGNATURE_DECODING_ERROR", finding_text("cms.certificate_unread", number=number, part=broken_part)
            )
        raise SignatureProblem(
            "NO_END_ENTITY_CERTIFICATE", finding_text("cms.signer_certificate_missing")
        )
    attrs_der = None
    md = signing_time = None
    if signer.signed_attrs is not None:
        attrs_der = b"\x31" + signer.signed_attrs[1:]  # [0] IMPLICIT → universal SET OF, bytes as received
        what = _PART_SIGNED_ATTRS
        try:
            attrs = _attribute_values(attrs_der)
            what = _PART_MESSAGE_DIGEST
            md = _message_digest(attrs.get(oids.MESSAGE_DIGEST))
            what = _PART_SIGNING_TIME
            signing_time = _signing_time(attrs.get(oids.SIGNING_TIME))
        except certs.PARSE_ERRORS as exc:
            raise _unread(what, exc) from exc
    if tlv.identifier(parts.signer_infos[0]) != 0x30:
        # what asn1crypto's SignerInfo.load refuses of a whole TLV element: any tag but a universal
        # constructed SEQUENCE (the certificate is one: _certificates keeps nothing else)
        raise SignatureProblem("SIGNATURE_DECODING_ERROR", finding_text("cms.unread", what=_PART_SIGNER_INFO))
    what = _PART_DIGEST_ALGORITHM
    try:
        digest_oid = _algorithm_oid(signer.digest_algorithm)
        what = _PART_SIGNATURE_ALGORITHM
        signature_oid = _algorithm_oid(signer.signature_algorithm)
        what = _PART_SIGNATURE
        signature = bytes(_octets(signer.signature))
    except certs.PARSE_ERRORS as exc:
        raise _unread(what, exc) from exc
    return InspectedSignature(
        der=der,
        signer_der=parts.signer_infos[0],
        cert=cert,
        certificates=found,
        digest_oid=digest_oid,
        signature_oid=signature_oid,
        message_digest=md,
        signing_time=signing_time,
        signed_attrs_der=attrs_der,
        signature=signature,
    )


def algorithm_problem(sig: InspectedSignature) -> str | None:
    """Why the algorithms are not GOST R 34.10/34.11-2012 (or do not fit together); None when they are."""
    digest_bits = oids.DIGEST_BITS.get(sig.digest_oid)
    if digest_bits is None:
        return finding_text("cms.digest_not_gost", oid=sig.digest_oid)
    sig_bits = oids.SIGNATURE_BITS.get(sig.signature_oid)
    if sig_bits is None:
        return finding_text("cms.signature_not_gost", oid=sig.signature_oid)
    key_oid = sig.cert.key_algorithm
    key_bits = oids.SIGNATURE_BITS.get(key_oid) if key_oid in oids.KEY_NAMES else None
    if key_bits is None:
        return finding_text("cms.key_not_gost", oid=key_oid)
    if not digest_bits == sig_bits == key_bits:
        return finding_text("cms.lengths_differ", digest=digest_bits, signature=sig_bits, key=key_bits)
    return None
