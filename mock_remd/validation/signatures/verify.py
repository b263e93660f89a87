"""Cryptographic checks (level ``crypto``): a CMS signer's signature and certificate signatures."""

from __future__ import annotations

import hashlib

from asn1crypto import x509

from mock_remd.gost import certs, oids, openssl_gost, streebog, tlv
from mock_remd.gost.keys import GostKeyError, GostPublicKey
from mock_remd.validation.signatures.cms import InspectedSignature


def public_key(cert: x509.Certificate) -> GostPublicKey:
    """The GOST public key of a certificate (raises GostKeyError for other algorithms)."""
    return GostPublicKey.from_spki_der(tlv.encoded(cert.public_key))


def verify_signer(sig: InspectedSignature) -> bool:
    """True when the SignerInfo signature verifies with the signer certificate's key.

    With signed attributes the signature covers Streebog of their DER: the bytes as received (re-tagged
    SET OF) and, when the sender's encoding was not DER, the DER re-encoding RFC 5652 prescribes. Without
    signed attributes the container is not CAdES-BES and is refused before this check: False.
    """
    key = sig.cert.public_key
    if sig.signed_attrs_der is None or key is None or sig.cert.key_algorithm == oids.KEY_2001:
        return False
    if signature_value_ok(sig.cert, streebog.digest(sig.signed_attrs_der, key.bits), sig.signature):
        return True
    canonical = sig.signed_attrs_der_canonical
    return canonical is not None and signature_value_ok(sig.cert, streebog.digest(canonical, key.bits), sig.signature)


def backend_name() -> str:
    """Who checks signature values: ``openssl`` (GOST engine) or ``gostcrypto`` (pure-Python fallback)."""
    return openssl_gost.backend_name()


def signature_value_ok(cert: certs.CertInfo, digest: bytes, signature: bytes) -> bool:
    """A GOST R 34.10 signature over ``digest`` checked with ``cert``'s key: OpenSSL's engine when it can,
    else gostcrypto."""
    verdict = openssl_gost.verify(cert.spki_der, digest, signature)
    if verdict is not None:
        return verdict
    if cert.public_key is None:
        return False
    try:
        return cert.public_key.verify(digest, signature)
    except GostKeyError:  # a parameter set neither OpenSSL nor gostcrypto knows: nothing verifies with it
        return False


def _digest(name: str, bits: int, data: bytes) -> bytes | None:
    if name == "md_gost94":  # GOST R 34.11-94: only OpenSSL's GOST engine/provider has it
        try:
            return hashlib.new(name, data).digest()
        except (ValueError, TypeError):
            return None
    return streebog.digest(data, bits)


def verify_certificate(cert: certs.CertInfo | x509.Certificate, issuer: certs.CertInfo | x509.Certificate) -> bool | None:
    """True when ``cert`` carries a valid GOST signature by ``issuer``'s key, False when it does not.

    None when the signature cannot be checked here: a GOST R 34.10-2001 signature (GOST R 34.11-94 hash)
    without OpenSSL's GOST engine.
    """
    child = cert if isinstance(cert, certs.CertInfo) else certs.read_certificate(tlv.encoded(cert))
    parent = issuer if isinstance(issuer, certs.CertInfo) else certs.read_certificate(tlv.encoded(issuer))
    spec = oids.CERT_SIGNATURES.get(child.signature_algorithm)
    key = parent.public_key
    if spec is None or key is None:
        return False
    digest_name, digest_bits, key_bits = spec
    if key.bits != key_bits:
        return False
    try:
        digest = _digest(digest_name, digest_bits, child.tbs_der)
    except GostKeyError:
        return False
    if digest is None:
        return None
    return signature_value_ok(parent, digest, child.signature_value)
