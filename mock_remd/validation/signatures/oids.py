"""GOST R 34.10/34.11-2012 object identifiers, taught to asn1crypto.

asn1crypto ships without names for the Russian algorithm and certificate-subject OIDs. :func:`register`
adds them to its OID maps (algorithm ids, public-key parameter specs, subject attribute types) so that
GOST certificates and CMS containers parse and build like any other. It runs on import and is idempotent.
"""

from __future__ import annotations

from asn1crypto import algos, core, keys, x509

# --- algorithms (RFC 9215, TC26) -------------------------------------------------------------------
KEY_256 = "1.2.643.7.1.1.1.1"
KEY_512 = "1.2.643.7.1.1.1.2"
DIGEST_256 = "1.2.643.7.1.1.2.2"
DIGEST_512 = "1.2.643.7.1.1.2.3"
SIG_256 = "1.2.643.7.1.1.3.2"
SIG_512 = "1.2.643.7.1.1.3.3"

#: dotted OID -> asn1crypto name registered for it
KEY_NAMES = {KEY_256: "gost2012_256", KEY_512: "gost2012_512"}
DIGEST_NAMES = {DIGEST_256: "streebog256", DIGEST_512: "streebog512"}
SIG_NAMES = {SIG_256: "gost2012_256_streebog256", SIG_512: "gost2012_512_streebog512"}

#: digest OID -> bit length
DIGEST_BITS = {DIGEST_256: 256, DIGEST_512: 512}
#: signer signature-algorithm OID (key or signature-with-digest form) -> key bit length
SIGNATURE_BITS = {KEY_256: 256, SIG_256: 256, KEY_512: 512, SIG_512: 512}

# --- elliptic-curve parameter sets -> gostcrypto curve names ------------------------------------
_TC26_256_A = "id-tc26-gost-3410-2012-256-paramSetA"
_TC26_256_B = "id-tc26-gost-3410-2012-256-paramSetB"
_TC26_256_C = "id-tc26-gost-3410-2012-256-paramSetC"
_TC26_256_D = "id-tc26-gost-3410-2012-256-paramSetD"
CURVES: dict[str, str] = {
    "1.2.643.7.1.2.1.1.1": _TC26_256_A,
    "1.2.643.7.1.2.1.1.2": _TC26_256_B,
    "1.2.643.2.2.35.1": _TC26_256_B,  # CryptoPro-A (same curve as tc26 256 B)
    "1.2.643.2.2.36.0": _TC26_256_B,  # CryptoPro-XchA
    "1.2.643.7.1.2.1.1.3": _TC26_256_C,
    "1.2.643.2.2.35.2": _TC26_256_C,  # CryptoPro-B
    "1.2.643.7.1.2.1.1.4": _TC26_256_D,
    "1.2.643.2.2.35.3": _TC26_256_D,  # CryptoPro-C
    "1.2.643.2.2.36.1": _TC26_256_D,  # CryptoPro-XchB
    "1.2.643.7.1.2.1.2.1": "id-tc26-gost-3410-12-512-paramSetA",
    "1.2.643.7.1.2.1.2.2": "id-tc26-gost-3410-12-512-paramSetB",
    "1.2.643.7.1.2.1.2.3": "id-tc26-gost-3410-2012-512-paramSetC",
}
PARAMSET_256_A = "1.2.643.7.1.2.1.1.1"
PARAMSET_256_B = "1.2.643.7.1.2.1.1.2"
PARAMSET_512_A = "1.2.643.7.1.2.1.2.1"

# --- certificate subject attributes (Приказ ФСБ № 795) ----------------------------------------
SNILS = "1.2.643.100.3"
OGRN = "1.2.643.100.1"
OGRNIP = "1.2.643.100.5"
INN = "1.2.643.3.131.1.1"
INN_LE = "1.2.643.100.4"
SUBJECT_NAMES = {SNILS: "snils", OGRN: "ogrn", OGRNIP: "ogrnip", INN: "inn", INN_LE: "inn_le"}


class GostPublicKeyParameters(core.Sequence):
    """GostR3410-2012-PublicKeyParameters (RFC 9215 §4.2)."""

    _fields = [
        ("public_key_param_set", core.ObjectIdentifier),
        ("digest_param_set", core.ObjectIdentifier, {"optional": True}),
        ("encryption_param_set", core.ObjectIdentifier, {"optional": True}),
    ]


def _add_names(cls: type[core.ObjectIdentifier], names: dict[str, str]) -> None:
    cls._map.update(names)
    if cls._reverse_map is not None:  # already built by an earlier lookup: keep it in step
        cls._reverse_map.update({v: k for k, v in names.items()})


_original_public_key_spec = keys.PublicKeyInfo._spec_callbacks["public_key"]


def _public_key_spec(info: keys.PublicKeyInfo):
    """GOST subjectPublicKey is a BIT STRING wrapping a DER OCTET STRING (X‖Y little-endian)."""
    if info["algorithm"]["algorithm"].dotted in KEY_NAMES:
        return (keys.ParsableOctetBitString, core.OctetString)
    return _original_public_key_spec(info)


_registered = False


def register() -> None:
    """Teach asn1crypto the GOST algorithm, parameter and subject-attribute OIDs (idempotent)."""
    global _registered
    if _registered:
        return
    _add_names(keys.PublicKeyAlgorithmId, KEY_NAMES)
    for name in KEY_NAMES.values():
        keys.PublicKeyAlgorithm._oid_specs[name] = GostPublicKeyParameters
    keys.PublicKeyInfo._spec_callbacks = {**keys.PublicKeyInfo._spec_callbacks, "public_key": _public_key_spec}
    _add_names(algos.DigestAlgorithmId, DIGEST_NAMES)
    # CMS signers write either the signature-with-digest OID or the bare key OID here.
    _add_names(algos.SignedDigestAlgorithmId, {**SIG_NAMES, **KEY_NAMES})
    _add_names(x509.NameType, SUBJECT_NAMES)
    for name in SUBJECT_NAMES.values():
        x509.NameTypeAndValue._oid_specs[name] = core.NumericString
    _registered = True


register()
