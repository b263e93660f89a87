"""A tiny GOST test PKI: a CA, doctor (физлицо, СНИЛС/ИНН) and organisation (ОГРН/ИНН ЮЛ) certificates.

Subjects follow the layout of Russian qualified certificates (Приказ ФСБ № 795): ``SN`` surname,
``G`` "name patronymic", ``CN`` full name, ``SNILS`` 1.2.643.100.3, ``INN`` 1.2.643.3.131.1.1,
``OGRN`` 1.2.643.100.1, ``INNLE`` 1.2.643.100.4. Everything here is for TESTS only.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from asn1crypto import core, x509

from mock_remd.gost import oids, streebog, tlv
from mock_remd.gost.certs import read_certificate
from mock_remd.gost.keys import GostPrivateKey, GostPublicKey
from mock_remd.signing.keys import dump_certificate, dump_private_key, load_certificate, load_private_key

UTC = dt.UTC
#: the Russian identity attributes (asn1crypto has no names for them: they go in by dotted OID)
RUSSIAN_ATTRIBUTES = {
    "snils": oids.SNILS, "inn": oids.INN, "ogrn": oids.OGRN, "ogrnip": oids.OGRNIP, "inn_le": oids.INN_LE,
}
_PRINTABLE = {"country_name"}
#: order of subject attributes, as CryptoPro-issued certificates list them
_ORDER = (
    "country_name", "state_or_province_name", "locality_name", "street_address", "organization_name",
    "organizational_unit_name", "title", "common_name", "surname", "given_name", "email_address",
    "snils", "inn", "inn_le", "ogrn", "ogrnip",
)


def build_name(**attrs: str) -> x509.Name:
    """An X.509 Name from asn1crypto attribute names (``common_name=…, snils=…``); empty values skipped."""
    rdns = []
    for key in sorted(attrs, key=lambda k: _ORDER.index(k) if k in _ORDER else len(_ORDER)):
        value = attrs[key]
        if not value:
            continue
        type_id = RUSSIAN_ATTRIBUTES.get(key, key)
        if key in RUSSIAN_ATTRIBUTES:
            encoded: core.Asn1Value = core.NumericString(value)
        elif key in _PRINTABLE:
            encoded = core.PrintableString(value)
        elif key == "email_address":
            encoded = core.IA5String(value)
        else:
            encoded = x509.DirectoryString(name="utf8_string", value=value)
        rdns.append(x509.RelativeDistinguishedName([x509.NameTypeAndValue({"type": type_id, "value": encoded})]))
    return x509.Name(name="", value=x509.RDNSequence(rdns))


def _key_id(public: GostPublicKey) -> bytes:
    return hashlib.sha1(tlv.children(public.spki_der())[1]).digest()  # the whole subjectPublicKey BIT STRING


def build_certificate(
    *,
    subject: x509.Name,
    public_key: GostPublicKey,
    issuer_key: GostPrivateKey,
    issuer_cert: x509.Certificate | None = None,
    not_before: dt.datetime,
    not_after: dt.datetime,
    ca: bool = False,
    key_usage: set[str] | None = None,
    serial: int | None = None,
    signature_oid: str | None = None,
    authority_key_id: bytes | None = None,
) -> x509.Certificate:
    """Issue a certificate signed with ``issuer_key`` (self-signed when ``issuer_cert`` is None)."""
    issuer_public = issuer_key.public_key()
    if key_usage is None:
        key_usage = {"key_cert_sign", "crl_sign", "digital_signature"} if ca else {"digital_signature", "non_repudiation"}
    sig_oid = signature_oid or (oids.SIG_256 if issuer_key.bits == 256 else oids.SIG_512)
    extensions = [
        {"extn_id": "basic_constraints", "critical": True, "extn_value": {"ca": ca}},
        {"extn_id": "key_identifier", "critical": False, "extn_value": _key_id(public_key)},
        {"extn_id": "authority_key_identifier", "critical": False, "extn_value": {"key_identifier": authority_key_id or _key_id(issuer_public)}},
    ]
    if key_usage:
        extensions.insert(1, {"extn_id": "key_usage", "critical": True, "extn_value": set(key_usage)})
    if not ca:
        extensions.append(
            {"extn_id": "extended_key_usage", "critical": False, "extn_value": ["client_auth", "email_protection"]}
        )
    # Assembled from separately encoded parts: asn1crypto cannot re-encode a GOST public key (it has no
    # spec for it without global registration), and re-encodes parsed parts whose length ends in 0x80.
    if issuer_cert is not None:
        issuer_der = read_certificate(tlv.encoded(issuer_cert)).subject.der
    else:
        issuer_der = _name_der(subject)
    serial_number = serial if serial is not None else secrets.randbits(127) | (1 << 126)
    algorithm = oids.AlgorithmIdentifier({"algorithm": sig_oid}).dump()
    tbs = tlv.encode(0x30, b"".join([
        tlv.encode(0xA0, core.Integer(2).dump()),
        core.Integer(serial_number).dump(),
        algorithm,
        issuer_der,
        x509.Validity({"not_before": _time(not_before), "not_after": _time(not_after)}).dump(),
        _name_der(subject),
        public_key.spki_der(),
        tlv.encode(0xA3, x509.Extensions(extensions).dump()),
    ]))
    signature = issuer_key.sign(streebog.digest(tbs, issuer_key.bits))
    return x509.Certificate.load(tlv.encode(0x30, tbs + algorithm + core.OctetBitString(signature).dump()))


def _name_der(name: x509.Name) -> bytes:
    return tlv.encoded(name.chosen)


def _time(value: dt.datetime) -> x509.Time:
    value = value.astimezone(UTC)
    return x509.Time(name="utc_time" if value.year < 2050 else "general_time", value=value)


def inn_for_person(seed: str) -> str:
    """A 12-digit individual INN with valid check digits, derived from ``seed`` digits."""
    digits = [int(c) for c in (seed + "7700000000")[:10] if c.isdigit()]
    digits = (digits + [0] * 10)[:10]
    w11 = (7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
    w12 = (3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
    digits.append(sum(a * b for a, b in zip(w11, digits, strict=True)) % 11 % 10)
    digits.append(sum(a * b for a, b in zip(w12, digits, strict=True)) % 11 % 10)
    return "".join(map(str, digits))


def _validity(not_before: dt.datetime | None, not_after: dt.datetime | None) -> tuple[dt.datetime, dt.datetime]:
    now = dt.datetime.now(UTC).replace(microsecond=0)
    start = not_before or now - dt.timedelta(days=365)
    end = not_after or start + dt.timedelta(days=5 * 365)
    return start, end


def issue_doctor_cert(
    snils: str,
    surname: str,
    name: str,
    patronymic: str = "",
    not_before: dt.datetime | None = None,
    not_after: dt.datetime | None = None,
    *,
    inn: str = "",
    title: str = "Врач",
    organization: str = "",
    ca_key_pem: bytes | None = None,
    ca_cert_pem: bytes | None = None,
    key_pem: bytes | None = None,
    key_usage: set[str] | None = None,
) -> tuple[bytes, bytes]:
    """A TEST doctor certificate for ``snils``/name signed by the test CA: returns ``(key_pem, cert_pem)``.

    A fresh 256-bit key is generated unless ``key_pem`` is given (reuse it to save time in loops).
    Validity defaults to one year back and five years ahead of now.
    """
    from mock_remd.signing.testkeys import test_ca

    ca = test_ca()
    ca_key = load_private_key(ca_key_pem) if ca_key_pem else ca.private_key
    ca_cert = load_certificate(ca_cert_pem) if ca_cert_pem else ca.certificate
    key = load_private_key(key_pem) if key_pem else GostPrivateKey.generate(oids.PARAMSET_256_B)
    digits = "".join(c for c in snils if c.isdigit())
    subject = build_name(
        country_name="RU",
        organization_name=organization,
        title=title,
        common_name=" ".join(p for p in (surname, name, patronymic) if p),
        surname=surname,
        given_name=" ".join(p for p in (name, patronymic) if p),
        snils=digits,
        inn=inn or inn_for_person(digits),
    )
    start, end = _validity(not_before, not_after)
    cert = build_certificate(
        subject=subject, public_key=key.public_key(), issuer_key=ca_key, issuer_cert=ca_cert,
        not_before=start, not_after=end, key_usage=key_usage,
    )
    return dump_private_key(key), dump_certificate(cert)


def issue_org_cert(
    org_name: str,
    ogrn: str,
    inn_le: str,
    not_before: dt.datetime | None = None,
    not_after: dt.datetime | None = None,
    *,
    key_pem: bytes | None = None,
) -> tuple[bytes, bytes]:
    """A TEST organisation (legal entity) certificate signed by the test CA: ``(key_pem, cert_pem)``."""
    from mock_remd.signing.testkeys import test_ca

    ca = test_ca()
    key = load_private_key(key_pem) if key_pem else GostPrivateKey.generate(oids.PARAMSET_256_B)
    subject = build_name(
        country_name="RU", organization_name=org_name, common_name=org_name, ogrn=ogrn, inn_le=inn_le
    )
    start, end = _validity(not_before, not_after)
    cert = build_certificate(
        subject=subject, public_key=key.public_key(), issuer_key=ca.private_key, issuer_cert=ca.certificate,
        not_before=start, not_after=end,
    )
    return dump_private_key(key), dump_certificate(cert)
