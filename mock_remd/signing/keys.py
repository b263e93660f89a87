"""GOST private keys and certificates in PEM, in the formats OpenSSL's GOST engine reads and writes.

``openssl genpkey -engine gost -algorithm gost2012_256`` writes PKCS#8 ``PRIVATE KEY`` whose
``privateKey`` OCTET STRING holds the scalar little-endian (older engines wrapped it in a second
OCTET STRING or wrote an INTEGER; both are read too). CryptoPro's masked containers are not supported.
"""

from __future__ import annotations

from asn1crypto import core, pem, x509

from mock_remd.gost import oids, tlv
from mock_remd.gost.keys import GostKeyError, GostPrivateKey, key_parameters


class _Pkcs8(core.Sequence):
    _fields = [
        ("version", core.Integer),
        ("algorithm", oids.AlgorithmIdentifier),
        ("private_key", core.OctetString),
        ("attributes", core.Any, {"implicit": 0, "optional": True}),
    ]


def _der(data: bytes, *labels: str) -> bytes:
    if pem.detect(data):
        label, _headers, der = pem.unarmor(data)
        if labels and label not in labels:
            raise ValueError(f"expected PEM {' or '.join(labels)}, got {label}")
        return der
    return data


def load_private_key(data: bytes) -> GostPrivateKey:
    """Read a GOST R 34.10-2012 private key (PKCS#8, PEM or DER)."""
    info = _Pkcs8.load(_der(data, "PRIVATE KEY"))
    algo = info["algorithm"]["algorithm"].dotted
    if algo not in oids.KEY_NAMES:
        raise GostKeyError(f"not a GOST R 34.10-2012 private key (algorithm {algo})")
    bits = 256 if algo == oids.KEY_256 else 512
    size = bits // 8
    params = info["algorithm"]["parameters"]
    paramset = oids.GostPublicKeyParameters.load(tlv.encoded(params))["public_key_param_set"].dotted
    raw = info["private_key"].native
    if len(raw) == size:
        d = int.from_bytes(raw, "little")
    elif raw[:1] == b"\x04":
        d = int.from_bytes(core.OctetString.load(raw).native, "little")
    elif raw[:1] == b"\x02":
        d = core.Integer.load(raw).native
    else:
        raise GostKeyError("unsupported GOST private key encoding (masked CryptoPro keys are not supported)")
    return GostPrivateKey(bits, paramset, d)


def dump_private_key(key: GostPrivateKey) -> bytes:
    """PKCS#8 PEM as ``openssl genpkey -engine gost`` writes it."""
    algo = oids.KEY_256 if key.bits == 256 else oids.KEY_512
    info = _Pkcs8(
        {
            "version": 0,
            "algorithm": {"algorithm": algo, "parameters": key_parameters(key.paramset, key.bits)},
            "private_key": key.d.to_bytes(key.size, "little"),
        }
    )
    return pem.armor("PRIVATE KEY", info.dump())


def load_certificate(data: bytes) -> x509.Certificate:
    """Read one X.509 certificate (PEM or DER)."""
    return x509.Certificate.load(_der(data, "CERTIFICATE"))


def dump_certificate(cert: x509.Certificate) -> bytes:
    """PEM of a certificate."""
    return pem.armor("CERTIFICATE", tlv.encoded(cert))
