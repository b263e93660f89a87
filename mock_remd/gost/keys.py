"""GOST R 34.10-2012 arithmetic through gostcrypto, with the wire byte orders sorted out.

Wire formats (RFC 9215 / RFC 4491, what OpenSSL's GOST engine and CryptoPro write):

* digest → integer: the Streebog output read **little-endian**;
* signature value (CMS ``signature``, X.509 ``signatureValue``): ``s ‖ r``, each big-endian;
* public key (SubjectPublicKeyInfo): a DER OCTET STRING holding ``X ‖ Y``, each **little-endian**;
* private key (PKCS#8 from ``openssl genpkey -engine gost``): an OCTET STRING with the scalar little-endian.

gostcrypto works big-endian throughout and returns ``r ‖ s``; the helpers below translate.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from functools import cache

from asn1crypto import core, keys
from gostcrypto import gostsignature

from mock_remd.gost import oids, tlv


class GostKeyError(ValueError):
    """A key or parameter set this module cannot use."""


#: public-key algorithm OID -> key bits (GOST R 34.10-2001 keys are 256-bit curve points too)
KEY_BITS = {oids.KEY_256: 256, oids.KEY_512: 512, oids.KEY_2001: 256}


@cache
def _signer(paramset: str, bits: int) -> gostsignature.GOST34102012:
    name = oids.CURVES.get(paramset)
    if name is None:
        raise GostKeyError(f"unsupported GOST R 34.10-2012 parameter set {paramset}")
    mode = gostsignature.MODE_256 if bits == 256 else gostsignature.MODE_512
    return gostsignature.new(mode, gostsignature.CURVES_R_1323565_1_024_2019[name])


def curve_order(paramset: str, bits: int) -> int:
    """The subgroup order q of the parameter set."""
    return _signer(paramset, bits)._q


@dataclass(frozen=True)
class GostPublicKey:
    """A GOST R 34.10-2012 public key: size, parameter set and the point (big-endian coordinates)."""

    bits: int
    paramset: str
    x: int
    y: int
    #: the key algorithm OID when it is not GOST R 34.10-2012 (only 2001 keys, read from CA certificates)
    algorithm: str = ""

    @property
    def size(self) -> int:
        return self.bits // 8

    @classmethod
    def from_spki(cls, info: keys.PublicKeyInfo) -> GostPublicKey:
        """Read a SubjectPublicKeyInfo with a GOST key OID (parsed or not: only its bytes are used)."""
        return cls.from_spki_der(tlv.encoded(info))

    @classmethod
    def from_spki_der(cls, der: bytes) -> GostPublicKey:
        """Read the DER of a GOST R 34.10-2012 (or -2001) SubjectPublicKeyInfo with the local specs.

        Raises :class:`GostKeyError` for other algorithms and for a structure that cannot be read.
        """
        try:
            return cls._from_spki_der(der)
        except (ValueError, TypeError, IndexError, OverflowError) as exc:
            if isinstance(exc, GostKeyError):
                raise
            raise GostKeyError("unreadable SubjectPublicKeyInfo") from exc

    @classmethod
    def _from_spki_der(cls, der: bytes) -> GostPublicKey:
        algorithm_id, bit_string = tlv.children(der)[:2]
        algorithm_parts = tlv.children(algorithm_id)
        algo = core.ObjectIdentifier.load(algorithm_parts[0]).dotted
        if algo not in KEY_BITS:
            raise GostKeyError(f"not a GOST R 34.10 public key ({algo})")
        bits = KEY_BITS[algo]
        if len(algorithm_parts) < 2 or tlv.identifier(algorithm_parts[1]) != 0x30:
            raise GostKeyError("GOST public key without its parameter set")
        paramset = oids.GostPublicKeyParameters.load(algorithm_parts[1])["public_key_param_set"].dotted
        raw = core.OctetString.load(core.OctetBitString.load(bit_string).native).native
        size = bits // 8
        if len(raw) != 2 * size:
            raise GostKeyError(f"GOST public key must be {2 * size} bytes, got {len(raw)}")
        x = int.from_bytes(raw[:size], "little")
        y = int.from_bytes(raw[size:], "little")
        return cls(bits, paramset, x, y, algo if algo == oids.KEY_2001 else "")

    def spki_der(self) -> bytes:
        """The SubjectPublicKeyInfo DER, encoded the way OpenSSL's GOST engine does."""
        algo = self.algorithm or (oids.KEY_256 if self.bits == 256 else oids.KEY_512)
        raw = self.x.to_bytes(self.size, "little") + self.y.to_bytes(self.size, "little")
        return oids.SubjectPublicKeyInfo(
            {
                "algorithm": {"algorithm": algo, "parameters": key_parameters(self.paramset, self.bits)},
                "public_key": core.OctetString(raw).dump(),
            }
        ).dump()

    def to_spki(self) -> keys.PublicKeyInfo:
        """The SubjectPublicKeyInfo as asn1crypto's type (for embedding in a TBSCertificate)."""
        return keys.PublicKeyInfo.load(self.spki_der())

    def verify(self, digest: bytes, signature: bytes) -> bool:
        """Check a wire-format signature (``s ‖ r``) over a Streebog digest (as the hash outputs it)."""
        size = self.size
        if len(signature) != 2 * size or len(digest) != size:
            return False
        signer = _signer(self.paramset, self.bits)
        point = bytearray(self.x.to_bytes(size, "big") + self.y.to_bytes(size, "big"))
        r_s = bytearray(signature[size:] + signature[:size])
        try:
            return bool(signer.verify(point, bytearray(digest[::-1]), r_s))
        except gostsignature.GOSTSignatureError:
            return False


def key_parameters(paramset: str, bits: int) -> oids.GostPublicKeyParameters:
    """The AlgorithmIdentifier parameters for a key on ``paramset`` (digest set as OpenSSL writes it)."""
    value = {"public_key_param_set": paramset}
    if paramset != oids.PARAMSET_256_A:
        value["digest_param_set"] = oids.DIGEST_256 if bits == 256 else oids.DIGEST_512
    return oids.GostPublicKeyParameters(value)


@dataclass(frozen=True)
class GostPrivateKey:
    """A GOST R 34.10-2012 private scalar with its parameter set."""

    bits: int
    paramset: str
    d: int

    @property
    def size(self) -> int:
        return self.bits // 8

    @classmethod
    def generate(cls, paramset: str = oids.PARAMSET_256_B, bits: int = 256) -> GostPrivateKey:
        """A fresh random key (``secrets``) on ``paramset``."""
        q = curve_order(paramset, bits)
        return cls(bits, paramset, 1 + secrets.randbelow(q - 1))

    def public_key(self) -> GostPublicKey:
        """The matching public key."""
        raw = _signer(self.paramset, self.bits).public_key_generate(bytearray(self.d.to_bytes(self.size, "big")))
        return GostPublicKey(
            self.bits, self.paramset, int.from_bytes(raw[: self.size], "big"), int.from_bytes(raw[self.size :], "big")
        )

    def sign(self, digest: bytes) -> bytes:
        """Sign a Streebog digest; returns the wire form ``s ‖ r``."""
        size = self.size
        if len(digest) != size:
            raise GostKeyError(f"a {self.bits}-bit key signs {size}-byte digests, got {len(digest)}")
        r_s = _signer(self.paramset, self.bits).sign(
            bytearray(self.d.to_bytes(size, "big")), bytearray(digest[::-1])
        )
        return bytes(r_s[size:] + r_s[:size])
