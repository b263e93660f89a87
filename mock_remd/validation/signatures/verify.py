"""Cryptographic checks (level ``crypto``): a CMS signer's signature and certificate signatures."""

from __future__ import annotations

from asn1crypto import x509

from mock_remd.validation.signatures import oids, streebog
from mock_remd.validation.signatures.cms import InspectedSignature
from mock_remd.validation.signatures.gost import GostKeyError, GostPublicKey


def public_key(cert: x509.Certificate) -> GostPublicKey:
    """The GOST public key of a certificate (raises GostKeyError for other algorithms)."""
    return GostPublicKey.from_spki(cert.public_key)


def verify_signer(sig: InspectedSignature) -> bool:
    """True when the SignerInfo signature verifies with the signer certificate's key.

    With signed attributes the signature covers Streebog of their DER (as received, re-tagged SET OF);
    without them it covers the content digest, which a detached signature cannot provide here: False.
    """
    if sig.signed_attrs_der is None:
        return False
    try:
        key = public_key(sig.certificate)
    except (GostKeyError, ValueError):
        return False
    return key.verify(streebog.digest(sig.signed_attrs_der, key.bits), sig.signature)


def verify_certificate(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    """True when ``cert`` carries a valid GOST signature by ``issuer``'s key."""
    if cert["signature_algorithm"]["algorithm"].dotted not in oids.SIGNATURE_BITS:
        return False
    try:
        key = public_key(issuer)
    except (GostKeyError, ValueError):
        return False
    tbs = cert["tbs_certificate"].dump()
    return key.verify(streebog.digest(tbs, key.bits), cert["signature_value"].native)
