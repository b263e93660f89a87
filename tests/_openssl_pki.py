"""A GOST PKI built with the OpenSSL CLI and its GOST engine, the way a clinic's developers build one.

Nothing here uses mock-remd's own signer: keys come from ``openssl genpkey -engine gost``, requests
from ``openssl req`` with a config (``string_mask = utf8only``, the Russian attributes by OpenSSL's
names — written as NumericString — and ИНН ЮЛ by an ``oid_section`` alias — written as UTF8String),
certificates from ``openssl ca`` with the extensions accredited CAs put in (critical keyUsage,
subjectSignTool/issuerSignTool, critical certificatePolicies with Russian OIDs, qcStatements, AIA,
CRL distribution points), and signatures from ``openssl cms -sign``.

:func:`build` makes, under one folder:

* ``ca256`` — root CA, GOST 2012-256 (CryptoPro-A), its own ОГРН and ИНН ЮЛ in its name;
* ``ca2001`` — root CA with a GOST R 34.10-2001 key, signing with GOST R 34.11-94;
* ``sub256`` — an intermediate CA (tc26 256 paramSetA: parameters without a digest set) under ``ca256``;
* doctors (СНИЛС, ИНН, SN/G/CN, T, O): ``doctor256`` (paramset A, by ca256), ``doctor256tc``
  (TCA, by ca2001), ``doctor512`` (512 A, by ca256), ``doctor512c`` (512 C, by sub256);
* organisations (ОГРН NumericString, ИНН ЮЛ UTF8String): ``org256`` (paramset B), ``org512`` (512 B).
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

#: the doctor of the official example of kind 119 (the e2e tests register it)
DOCTOR = {"snils": "14848125585", "surname": "Кузнецов", "given": "Андрей Петрович"}
ORG = {"name": 'ГБУЗ МО "Химкинская областная больница"', "ogrn": "1025006035580", "inn_le": "5047001330"}
START, END = "20200101000000Z", "20400101000000Z"

_CONFIG = """\
oid_section = new_oids
[new_oids]
INNLE = 1.2.643.100.4

[req]
distinguished_name = dn
string_mask = utf8only
utf8 = yes
prompt = no

[dn]
CN = placeholder

[ca]
default_ca = ca_default

[ca_default]
dir = {dir}
database = $dir/index.txt
new_certs_dir = $dir/newcerts
serial = $dir/serial
default_md = md_gost12_256
policy = policy_anything
unique_subject = no
email_in_dn = no
copy_extensions = none

[policy_anything]
commonName = supplied

[v3_ca]
basicConstraints = critical, CA:true
keyUsage = critical, keyCertSign, cRLSign, digitalSignature
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
1.2.643.100.111 = ASN1:UTF8String:Средство электронной подписи: OpenSSL GOST engine
1.2.643.100.112 = ASN1:SEQUENCE:issuer_sign_tool
certificatePolicies = 1.2.643.100.113.1, 1.2.643.100.113.2

[v3_leaf]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature, nonRepudiation, keyEncipherment, dataEncipherment
extendedKeyUsage = clientAuth, emailProtection, 1.2.643.2.2.34.6
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid, issuer
1.2.643.100.111 = ASN1:UTF8String:СКЗИ "КриптоПро CSP" (версия 4.0)
1.2.643.100.112 = critical, ASN1:SEQUENCE:issuer_sign_tool
certificatePolicies = critical, 1.2.643.100.113.1, 1.2.643.100.113.2
1.3.6.1.5.5.7.1.3 = DER:300A3008060604008E460101
authorityInfoAccess = caIssuers;URI:http://ca.example.test/ca.crt, OCSP;URI:http://ocsp.example.test/ocsp
crlDistributionPoints = URI:http://ca.example.test/ca.crl, URI:http://ca2.example.test/ca.crl

[issuer_sign_tool]
tool = UTF8String:ПАКМ "КриптоПро HSM" версии 2.0
ca_tool = UTF8String:ПАК "Удостоверяющий центр КриптоПро УЦ" версии 2.0
tool_cert = UTF8String:Сертификат соответствия № СФ/124-3966 от 15.01.2021
ca_cert = UTF8String:Сертификат соответствия № СФ/128-4271 от 13.07.2022
"""


class OpenSslError(RuntimeError):
    """An openssl command failed (its stderr is in the message)."""


def gost_engine_available() -> bool:
    """True when the openssl CLI loads the GOST engine (Debian libengine-gost-openssl)."""
    if not shutil.which("openssl"):
        return False
    return subprocess.run(["openssl", "engine", "gost"], capture_output=True).returncode == 0


@dataclass
class OpenSslPki:
    """The folder with every key (``NAME.key``) and certificate (``NAME.pem``)."""

    root: Path

    def path(self, name: str) -> Path:
        return self.root / name

    def openssl(self, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
        """Run ``openssl`` with this PKI's config; raise :class:`OpenSslError` on failure."""
        out = subprocess.run(["openssl", *args], cwd=cwd or self.root, capture_output=True,
                             env={"OPENSSL_CONF": str(self.root / "openssl.cnf"), "PATH": "/usr/bin:/bin"},
                             timeout=60)
        if out.returncode != 0:
            raise OpenSslError(f"openssl {' '.join(args)}: {out.stderr.decode(errors='replace')}")
        return out

    def key(self, name: str) -> bytes:
        return (self.root / f"{name}.key").read_bytes()

    def cert(self, name: str) -> bytes:
        return (self.root / f"{name}.pem").read_bytes()

    # --- building --------------------------------------------------------------------------------
    def genkey(self, name: str, algorithm: str, paramset: str) -> None:
        self.openssl("genpkey", "-engine", "gost", "-algorithm", algorithm, "-pkeyopt", f"paramset:{paramset}",
                     "-out", f"{name}.key")

    def issue(self, name: str, subject: str, issuer: str | None, extensions: str, md: str = "md_gost12_256") -> None:
        """CSR by ``openssl req``, certificate by ``openssl ca`` (self-signed with ``-selfsign``)."""
        self.openssl("req", "-engine", "gost", "-new", "-utf8", "-key", f"{name}.key", "-subj", subject,
                     "-out", f"{name}.csr")
        signer = ["-selfsign", "-keyfile", f"{name}.key"] if issuer is None else [
            "-cert", f"{issuer}.pem", "-keyfile", f"{issuer}.key"]
        self.openssl("ca", "-engine", "gost", "-batch", "-utf8", "-preserveDN", "-notext", "-md", md,
                     "-startdate", START, "-enddate", END, "-extensions", extensions, *signer,
                     "-in", f"{name}.csr", "-out", f"{name}.pem")

    def sign(self, content: Path, signer: str, out: Path, *options: str) -> bytes:
        """``openssl cms -sign -binary`` (detached unless ``-nodetach`` is among ``options``); DER bytes."""
        self.openssl("cms", "-sign", "-engine", "gost", "-binary", "-in", str(content), "-signer", f"{signer}.pem",
                     "-inkey", f"{signer}.key", "-outform", "DER", "-out", str(out), *options)
        return out.read_bytes()


def _doctor_subject(title: str) -> str:
    d = DOCTOR
    return (f"/C=RU/ST=50 Московская область/L=Химки/O={ORG['name']}/T={title}/CN={d['surname']} {d['given']}"
            f"/SN={d['surname']}/GN={d['given']}/SNILS={d['snils']}/INN=504700215497")


def _org_subject() -> str:
    return (f"/C=RU/ST=50 Московская область/L=Химки/street=ул. Кирова, д. 5/O={ORG['name']}/CN={ORG['name']}"
            f"/OGRN={ORG['ogrn']}/INNLE={ORG['inn_le']}")


def build(root: Path) -> OpenSslPki:
    """Make the whole PKI under ``root`` (about 40 openssl calls, a few seconds)."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "openssl.cnf").write_text(_CONFIG.format(dir=root), encoding="utf-8")
    (root / "newcerts").mkdir(exist_ok=True)
    (root / "index.txt").write_text("")
    (root / "serial").write_text("1000\n")
    pki = OpenSslPki(root)
    ca_name = "/C=RU/O=АО «Тестовый УЦ OpenSSL»/CN=Тестовый УЦ OpenSSL ГОСТ 2012/OGRN=1027700071530/INNLE=7717107991"
    pki.genkey("ca256", "gost2012_256", "A")
    pki.issue("ca256", ca_name, None, "v3_ca")
    pki.genkey("ca2001", "gost2001", "A")
    pki.issue("ca2001", "/C=RU/O=АО «Старый УЦ»/CN=Тестовый УЦ OpenSSL ГОСТ 2001/OGRN=1027700071541/INNLE=7717107992",
              None, "v3_ca", md="md_gost94")
    pki.genkey("sub256", "gost2012_256", "TCA")
    pki.issue("sub256", "/C=RU/O=АО «Тестовый УЦ OpenSSL»/CN=Подчинённый УЦ OpenSSL/OGRN=1027700071530/INNLE=7717107991",
              "ca256", "v3_ca")
    for name, algorithm, paramset, issuer, md in (
        ("doctor256", "gost2012_256", "A", "ca256", "md_gost12_256"),
        ("doctor256tc", "gost2012_256", "TCA", "ca2001", "md_gost94"),
        ("doctor512", "gost2012_512", "A", "ca256", "md_gost12_256"),
        ("doctor512c", "gost2012_512", "C", "sub256", "md_gost12_256"),
    ):
        pki.genkey(name, algorithm, paramset)
        pki.issue(name, _doctor_subject("Врач-кардиолог"), issuer, "v3_leaf", md=md)
    for name, algorithm, paramset in (("org256", "gost2012_256", "B"), ("org512", "gost2012_512", "B")):
        pki.genkey(name, algorithm, paramset)
        pki.issue(name, _org_subject(), "ca256", "v3_leaf")
    (root / "chain.pem").write_bytes(pki.cert("sub256") + pki.cert("ca256"))
    (root / "unrelated.pem").write_bytes(pki.cert("ca2001") + pki.cert("org512"))
    (root / "trusted.pem").write_bytes(pki.cert("ca256") + pki.cert("ca2001"))
    return pki


# --- shapes other signers produce, made from OpenSSL's output ---------------------------------------
def ber_indefinite(der: bytes, depth: int, level: int = 0) -> bytes:
    """Re-encode the constructed elements of the top ``depth`` levels with indefinite lengths (BER), as
    streaming signers (CryptoPro, ``openssl cms -stream``) write them. Certificates (SignedData's [0])
    stay DER: they are signed as they are; inside a SignerInfo only the signed attributes are re-encoded
    (asn1crypto cannot read an indefinite-length SignerIdentifier, no signer seen writes one)."""
    from asn1crypto import parser

    out, pointer = bytearray(), 0
    while pointer < len(der):
        _cls, method, _tag, header, contents, trailer = parser.parse(der[pointer:])
        pointer += len(header) + len(contents) + len(trailer)
        keep = (level == 3 and header[0] == 0xA0) or (level == 5 and header[0] != 0xA0)
        if method == 1 and depth > 0 and not keep:
            out += header[:1] + b"\x80" + ber_indefinite(contents, depth - 1, level + 1) + b"\x00\x00"
        else:
            out += header + contents + trailer
    return bytes(out)


def _tlv(tag: int, content: bytes) -> bytes:
    return bytes([tag]) + _length(len(content)) + content


def _length(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(raw)]) + raw


def timestamp_token(pki: OpenSslPki, signature_value: bytes, work: Path) -> bytes:
    """A time-stamp token (RFC 3161 TSTInfo in a SignedData) over ``signature_value``, signed by ``ca256``
    with ``openssl cms -sign -nodetach -econtent_type id-smime-ct-TSTInfo``."""
    import datetime as dt
    import hashlib

    from asn1crypto import tsp

    tst = tsp.TSTInfo({
        "version": "v1", "policy": "1.2.643.2.2.38.4",
        "message_imprint": {"hash_algorithm": {"algorithm": "sha256"},
                            "hashed_message": hashlib.sha256(signature_value).digest()},
        "serial_number": 1, "gen_time": dt.datetime.now(dt.UTC).replace(microsecond=0),
    })
    (work / "tst.der").write_bytes(tst.dump())
    pki.openssl("cms", "-sign", "-engine", "gost", "-binary", "-nodetach", "-in", str(work / "tst.der"),
                "-signer", "ca256.pem", "-inkey", "ca256.key", "-econtent_type", "1.2.840.113549.1.9.16.1.4",
                "-outform", "DER", "-out", str(work / "tst.p7"))
    return (work / "tst.p7").read_bytes()


def with_cades_x_long(pki: OpenSslPki, der: bytes, work: Path) -> bytes:
    """The signature with CAdES-T and CAdES-X Long Type 1 unsigned attributes added: signature time-stamp,
    complete certificate and revocation references, certificate and revocation values, CAdES-C time-stamp."""
    from asn1crypto import cms, core, pem

    info = cms.ContentInfo.load(der)
    token = timestamp_token(pki, info["content"]["signer_infos"][0]["signature"].native, work)
    ca = pem.unarmor(pki.cert("ca256"))[2]
    cert_ref = _tlv(0x30, _tlv(0x04, bytes(32)))  # OtherCertID with an OCTET STRING hash
    attributes = [
        ("1.2.840.113549.1.9.16.2.14", token),  # signatureTimeStampToken (CAdES-T)
        ("1.2.840.113549.1.9.16.2.21", _tlv(0x30, cert_ref)),  # completeCertificateRefs
        ("1.2.840.113549.1.9.16.2.22", _tlv(0x30, b"")),  # completeRevocationRefs
        ("1.2.840.113549.1.9.16.2.23", _tlv(0x30, ca)),  # certValues
        ("1.2.840.113549.1.9.16.2.24", _tlv(0x30, b"")),  # revocationValues
        ("1.2.840.113549.1.9.16.2.25", token),  # escTimeStamp (CAdES-C time-stamp)
    ]
    encoded = b"".join(
        _tlv(0x30, core.ObjectIdentifier(oid).dump() + _tlv(0x31, value)) for oid, value in attributes
    )
    return _append_to_signer_info(der, _tlv(0xA1, encoded))


def _children(der: bytes) -> list[tuple[bytes, bytes]]:
    """(identifier octet, contents) of each TLV in ``der`` (definite lengths)."""
    from asn1crypto import parser

    out, pointer = [], 0
    while pointer < len(der):
        _cls, _method, _tag, header, contents, trailer = parser.parse(der[pointer:])
        pointer += len(header) + len(contents) + len(trailer)
        out.append((header[:1], contents))
    return out


def _append_to_signer_info(der: bytes, extra: bytes) -> bytes:
    """Byte surgery (asn1crypto cannot re-encode a GOST container without its global maps): append
    ``extra`` to the first SignerInfo and recompute the lengths of everything around it."""
    [(ci_tag, ci)] = _children(der)
    (oid_tag, oid), (wrap_tag, wrap) = _children(ci)
    [(sd_tag, sd)] = _children(wrap)
    parts = _children(sd)
    set_tag, signer_infos = parts[-1]
    [(si_tag, si)] = _children(signer_infos)
    new_set = _tlv(set_tag[0], _tlv(si_tag[0], si + extra))
    new_sd = b"".join(_tlv(t[0], c) for t, c in parts[:-1]) + new_set
    return _tlv(ci_tag[0], _tlv(oid_tag[0], oid) + _tlv(wrap_tag[0], _tlv(sd_tag[0], new_sd)))
