"""Detached CMS (CAdES-BES-like) GOST signatures, in pure Python.

The container is what CryptoPro and ``openssl cms -sign -binary`` produce for REMD: SignedData with no
encapsulated content, the signer's certificate embedded, one SignerInfo identified by issuer and serial,
signed attributes ``contentType``, ``signingTime``, ``messageDigest`` and ``signingCertificateV2``.
"""

from __future__ import annotations

import datetime as dt

from asn1crypto import algos, cms, core, tsp, x509

from mock_remd.gost import oids, streebog, tlv
from mock_remd.signing.keys import load_certificate, load_private_key

UTC = dt.UTC


def _attribute(kind: str, value: core.Asn1Value) -> cms.CMSAttribute:
    return cms.CMSAttribute({"type": kind, "values": [value]})


def signed_attributes(
    content_digest: bytes, cert: x509.Certificate, digest_oid: str, signing_time: dt.datetime
) -> cms.CMSAttributes:
    """The signed attributes, in DER (sorted) order so every verifier re-encodes them identically."""
    bits = oids.DIGEST_BITS[digest_oid]
    ess = tsp.SigningCertificateV2(
        {
            "certs": [
                {
                    "hash_algorithm": {"algorithm": digest_oid},
                    "cert_hash": streebog.digest(tlv.encoded(cert), bits),
                    "issuer_serial": {
                        "issuer": [x509.GeneralName(name="directory_name", value=cert.issuer)],
                        "serial_number": cert.serial_number,
                    },
                }
            ]
        }
    )
    attrs = [
        _attribute("content_type", cms.ContentType("data")),
        _attribute("signing_time", cms.Time(name="utc_time", value=signing_time.astimezone(UTC))),
        _attribute("message_digest", core.OctetString(content_digest)),
        _attribute("signing_certificate_v2", ess),
    ]
    attrs.sort(key=lambda a: a.dump())
    return cms.CMSAttributes(attrs)


def sign_detached(
    content: bytes,
    key_pem: bytes,
    cert_pem: bytes,
    *,
    signing_time: dt.datetime | None = None,
    signature_oid: str | None = None,
    extra_certs: list[bytes] | None = None,
    message_digest: bytes | None = None,
) -> bytes:
    """Sign ``content`` with a GOST R 34.10-2012 key; returns the DER of a detached CMS SignedData.

    ``signature_oid`` picks what the SignerInfo names as its signature algorithm: the
    signature-with-digest OID (default, 1.2.643.7.1.1.3.2/.3) or the key OID (1.2.643.7.1.1.1.1/.2,
    as OpenSSL and CryptoPro write). ``message_digest`` overrides the computed digest (to build
    deliberately wrong test signatures); ``extra_certs`` (PEM/DER) are embedded after the signer's.
    """
    key = load_private_key(key_pem)
    cert = load_certificate(cert_pem)
    digest_oid = oids.DIGEST_256 if key.bits == 256 else oids.DIGEST_512
    sig_oid = signature_oid or (oids.SIG_256 if key.bits == 256 else oids.SIG_512)
    content_digest = message_digest if message_digest is not None else streebog.digest(content, key.bits)
    attrs = signed_attributes(content_digest, cert, digest_oid, signing_time or dt.datetime.now(UTC))
    signature = key.sign(streebog.digest(attrs.dump(), key.bits))
    certificates = [cert] + [load_certificate(c) for c in (extra_certs or [])]
    signer = cms.SignerInfo(
        {
            "version": "v1",
            "sid": cms.SignerIdentifier(
                name="issuer_and_serial_number",
                value={"issuer": cert.issuer, "serial_number": cert.serial_number},
            ),
            "digest_algorithm": algos.DigestAlgorithm({"algorithm": digest_oid}),
            "signed_attrs": attrs,
            "signature_algorithm": algos.SignedDigestAlgorithm({"algorithm": sig_oid}),
            "signature": signature,
        }
    )
    # Assembled by hand around the certificates' own bytes: asn1crypto cannot re-encode a GOST
    # certificate without global OID registration (and re-encodes any whose length ends in 0x80).
    digest_algorithms = tlv.encode(0x31, algos.DigestAlgorithm({"algorithm": digest_oid}).dump())
    encap = cms.EncapsulatedContentInfo({"content_type": "data"}).dump()
    certs_set = tlv.encode(0xA0, b"".join(tlv.encoded(c) for c in certificates))
    signed_data = tlv.encode(0x30, core.Integer(1).dump() + digest_algorithms + encap + certs_set
                             + tlv.encode(0x31, signer.dump()))
    return tlv.encode(0x30, cms.ContentType("signed_data").dump() + tlv.encode(0xA0, signed_data))
