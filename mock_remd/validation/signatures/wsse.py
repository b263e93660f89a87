"""The message-level ``wsse:Security`` signature (GOST XMLDSig over exclusive C14N), remd-protocol §1.5.

Checked only when present and when enabled (``ValidationSettings.options["wsse"] = "on"``; default off,
since the registry core leaves it to the IPS gateway). Each ``ds:Reference`` is resolved by ``wsu:Id``
(or ``Id``), transformed (exc-c14n, optionally enveloped-signature), hashed with Streebog and compared
with its ``DigestValue``; then ``SignatureValue`` is verified over exc-c14n of ``ds:SignedInfo`` with the
key of the ``wsse:BinarySecurityToken`` (or ``ds:X509Data``) certificate. The signature value is read
as ``s ‖ r`` (as in CMS); its byte-reversed form, which some toolkits write, is accepted as well.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from asn1crypto import x509
from lxml import etree

from mock_remd.catalog.findings import text as finding_text
from mock_remd.gost import openssl_gost, streebog, tlv
from mock_remd.gost.keys import GostKeyError, GostPublicKey
from mock_remd.namespaces import DS as DS_NS
from mock_remd.namespaces import EXC_C14N
from mock_remd.namespaces import WSSE as WSSE_NS
from mock_remd.namespaces import WSU as WSU_NS
from mock_remd.validation.report import Finding

ENVELOPED = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"
_CP = "urn:ietf:params:xml:ns:cpxmlsec:algorithms:"
_MORE = "http://www.w3.org/2001/04/xmldsig-more#"
#: digest URI -> Streebog bits
DIGEST_URIS = {
    _CP + "gostr34112012-256": 256, _MORE + "gostr34112012-256": 256,
    _CP + "gostr34112012-512": 512, _MORE + "gostr34112012-512": 512,
}
#: signature URI -> key bits
SIGNATURE_URIS = {
    _CP + "gostr34102012-gostr34112012-256": 256, _MORE + "gostr34102012-gostr34112012-256": 256,
    _CP + "gostr34102012-gostr34112012-512": 512, _MORE + "gostr34102012-gostr34112012-512": 512,
}
LAYER = "wsse"


def wsse_enabled(options: dict[str, Any]) -> bool:
    """True when the settings' ``options["wsse"]`` asks for the message signature check."""
    return str(options.get("wsse", "off")).strip().lower() in ("on", "true", "1", "yes", "verify")


def _f(code: str, message: str, path: str = "/Envelope/Header/Security") -> Finding:
    return Finding(code, finding_text("wsse.finding", detail=message), layer=LAYER, rule="wsse", path=path)


def _find_by_id(root: etree._Element, ref_id: str) -> etree._Element | None:
    for attr in (f"{{{WSU_NS}}}Id", "Id", "ID", "{http://www.w3.org/XML/1998/namespace}id"):
        found = root.xpath("//*[@*[namespace-uri()=$ns and local-name()=$ln] = $v]",
                           ns=etree.QName(attr).namespace or "", ln=etree.QName(attr).localname, v=ref_id)
        if found:
            return found[0]
    return None


def _c14n(element: etree._Element, prefixes: list[str] | None = None) -> bytes:
    return etree.tostring(element, method="c14n", exclusive=True, with_comments=False,
                          inclusive_ns_prefixes=prefixes or None)


def _b64(text: str | None) -> bytes:
    return base64.b64decode("".join((text or "").split()), validate=True)


def _certificate(security: etree._Element, signature: etree._Element) -> x509.Certificate | None:
    ref = signature.find(f"{{{DS_NS}}}KeyInfo/{{{WSSE_NS}}}SecurityTokenReference/{{{WSSE_NS}}}Reference")
    token = None
    if ref is not None and (ref.get("URI") or "").startswith("#"):
        token = _find_by_id(security, ref.get("URI")[1:])
    if token is None:
        token = security.find(f"{{{WSSE_NS}}}BinarySecurityToken")
    if token is None:
        token = signature.find(f".//{{{DS_NS}}}X509Certificate")
    if token is None:
        return None
    return x509.Certificate.load(_b64(token.text))


class _RefProblem(Exception):
    def __init__(self, code: str, text: str) -> None:
        super().__init__(text)
        self.code, self.text = code, text


def _reference_digest(root: etree._Element, ref: etree._Element) -> bytes:
    """Streebog of the transformed element a ``ds:Reference`` points at."""
    uri = ref.get("URI") or ""
    if not uri.startswith("#"):
        raise _RefProblem("WRONG_SIGNATURE_FORMAT", finding_text("wsse.not_local_reference", uri=uri))
    target = _find_by_id(root, uri[1:])
    if target is None:
        raise _RefProblem("WRONG_SIGNATURE_FORMAT", finding_text("wsse.element_missing", uri=uri))
    method = ref.find(f"{{{DS_NS}}}DigestMethod")
    algo = method.get("Algorithm") if method is not None else ""
    bits = DIGEST_URIS.get(algo or "")
    if bits is None:
        raise _RefProblem("UNKNOWN_ALGORITHM", finding_text("wsse.digest_not_gost", algorithm=algo))
    prefixes: list[str] = []
    for transform in ref.findall(f"{{{DS_NS}}}Transforms/{{{DS_NS}}}Transform"):
        algo = transform.get("Algorithm")
        if algo == ENVELOPED:
            target = etree.fromstring(etree.tostring(target))
            for sig in target.iter(f"{{{DS_NS}}}Signature"):
                sig.getparent().remove(sig)
        elif algo == EXC_C14N:
            inc = transform.find(f"{{{EXC_C14N}}}InclusiveNamespaces")
            if inc is not None:
                prefixes = (inc.get("PrefixList") or "").split()
        else:
            raise _RefProblem("WRONG_SIGNATURE_FORMAT", finding_text("wsse.transform", algorithm=algo))
    return streebog.digest(_c14n(target, prefixes), bits)


def _value_ok(key: GostPublicKey, spki: bytes, digest: bytes, value: bytes) -> bool:
    """OpenSSL's GOST engine when it is there, else gostcrypto."""
    verdict = openssl_gost.verify(spki, digest, value)
    return verdict if verdict is not None else key.verify(digest, value)


def check_wsse(envelope_root: etree._Element | None, *, verify_signature: bool = True) -> list[Finding]:
    """Findings about the envelope's ``wsse:Security`` signature; empty when absent or valid."""
    if envelope_root is None:
        return []
    security = envelope_root.find(f"{{*}}Header/{{{WSSE_NS}}}Security")
    if security is None:
        return []
    signature = security.find(f"{{{DS_NS}}}Signature")
    if signature is None:
        return [_f("WRONG_SIGNATURE_FORMAT", finding_text("wsse.no_signature"))]
    signed_info = signature.find(f"{{{DS_NS}}}SignedInfo")
    if signed_info is None:
        return [_f("WRONG_SIGNATURE_FORMAT", finding_text("wsse.no_signed_info"))]
    findings: list[Finding] = []
    c14n = signed_info.find(f"{{{DS_NS}}}CanonicalizationMethod")
    if c14n is None or c14n.get("Algorithm") != EXC_C14N:
        findings.append(_f("WRONG_SIGNATURE_FORMAT", finding_text("wsse.c14n", algorithm=EXC_C14N)))
    sig_method = signed_info.find(f"{{{DS_NS}}}SignatureMethod")
    sig_uri = sig_method.get("Algorithm") if sig_method is not None else ""
    key_bits = SIGNATURE_URIS.get(sig_uri)
    if key_bits is None:
        findings.append(_f("UNKNOWN_ALGORITHM", finding_text("wsse.signature_not_gost", algorithm=sig_uri)))
    refs = signed_info.findall(f"{{{DS_NS}}}Reference")
    if not refs:
        findings.append(_f("WRONG_SIGNATURE_FORMAT", finding_text("wsse.no_reference")))
    for ref in refs:
        uri = ref.get("URI") or ""
        try:
            actual = _reference_digest(envelope_root, ref)
        except _RefProblem as problem:
            findings.append(_f(problem.code, problem.text))
            continue
        try:
            declared = _b64(ref.findtext(f"{{{DS_NS}}}DigestValue"))
        except (binascii.Error, ValueError):
            declared = b""
        if declared != actual:
            findings.append(_f("SIGNATURE_VERIFICATION_ERROR", finding_text("wsse.digest_differs", uri=uri)))
    if findings or not verify_signature:
        return findings
    try:
        cert = _certificate(security, signature)
    except (ValueError, binascii.Error):
        cert = None
    if cert is None:
        return [_f("NO_END_ENTITY_CERTIFICATE", finding_text("wsse.no_certificate"))]
    try:
        spki = tlv.encoded(cert.public_key)
        key = GostPublicKey.from_spki_der(spki)
        value = _b64(signature.findtext(f"{{{DS_NS}}}SignatureValue"))
    except GostKeyError:
        return [_f("SIGNATURE_VERIFICATION_ERROR", finding_text("wsse.bad_key"))]
    except (ValueError, binascii.Error):
        return [_f("SIGNATURE_VERIFICATION_ERROR", finding_text("wsse.bad_value"))]
    digest = streebog.digest(_c14n(signed_info), key.bits)
    if not (_value_ok(key, spki, digest, value) or _value_ok(key, spki, digest, value[::-1])):
        findings.append(_f("SIGNATURE_VERIFICATION_ERROR", finding_text("wsse.wrong_value")))
    return findings
