"""GOST R 34.10/34.11 object identifiers and the local ASN.1 specs that read GOST structures.

Nothing here changes asn1crypto's global OID maps: asn1crypto leaves OIDs it does not know as dotted
strings and their values as ``Any``, and the GOST parts (key parameters, the public key BIT STRING) are
read with the local specs below. Importing mock-remd therefore changes nothing for its host process.
"""

from __future__ import annotations

from asn1crypto import core

# --- algorithms (RFC 9215, TC26) -------------------------------------------------------------------
KEY_256 = "1.2.643.7.1.1.1.1"
KEY_512 = "1.2.643.7.1.1.1.2"
DIGEST_256 = "1.2.643.7.1.1.2.2"
DIGEST_512 = "1.2.643.7.1.1.2.3"
SIG_256 = "1.2.643.7.1.1.3.2"
SIG_512 = "1.2.643.7.1.1.3.3"

#: GOST R 34.10-2012 public-key OIDs -> short names (for messages; asn1crypto is never told them)
KEY_NAMES = {KEY_256: "gost2012_256", KEY_512: "gost2012_512"}

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

# --- GOST R 34.10-2001 (CA certificates still signed with it) -------------------------------------
KEY_2001 = "1.2.643.2.2.19"
DIGEST_94 = "1.2.643.2.2.9"
SIG_2001 = "1.2.643.2.2.3"

#: certificate signature OID -> (hashlib/OpenSSL digest name, digest bits, GOST R 34.10 key bits)
CERT_SIGNATURES = {
    SIG_256: ("md_gost12_256", 256, 256),
    SIG_512: ("md_gost12_512", 512, 512),
    SIG_2001: ("md_gost94", 256, 256),
}

# --- certificate subject attributes (Приказ ФСБ № 795) ----------------------------------------
SNILS = "1.2.643.100.3"
OGRN = "1.2.643.100.1"
OGRNIP = "1.2.643.100.5"
INN = "1.2.643.3.131.1.1"
INN_LE = "1.2.643.100.4"

# --- CMS attributes (RFC 5652, RFC 5035) ---------------------------------------------------------
CONTENT_TYPE = "1.2.840.113549.1.9.3"
MESSAGE_DIGEST = "1.2.840.113549.1.9.4"
SIGNING_TIME = "1.2.840.113549.1.9.5"
SIGNED_DATA = "1.2.840.113549.1.7.2"


class GostPublicKeyParameters(core.Sequence):
    """GostR3410-2012-PublicKeyParameters (RFC 9215 §4.2); also GOST R 34.10-2001's (RFC 4491)."""

    _fields = [
        ("public_key_param_set", core.ObjectIdentifier),
        ("digest_param_set", core.ObjectIdentifier, {"optional": True}),
        ("encryption_param_set", core.ObjectIdentifier, {"optional": True}),
    ]


class AlgorithmIdentifier(core.Sequence):
    """An AlgorithmIdentifier whose parameters are left as they came (local spec, no global OID map)."""

    _fields = [("algorithm", core.ObjectIdentifier), ("parameters", core.Any, {"optional": True})]


class SubjectPublicKeyInfo(core.Sequence):
    """SubjectPublicKeyInfo read without asn1crypto's algorithm tables (the key stays a BIT STRING)."""

    _fields = [("algorithm", AlgorithmIdentifier), ("public_key", core.OctetBitString)]
